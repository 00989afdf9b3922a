// Prints benchmark figures; run with `Benchmarks/run.sh` (release build). Not a test: figures, not verdicts.
// `SlotBenchmarks preview` runs only the rule preview's figures.
if CommandLine.arguments.dropFirst().first == "preview" {
    RulePreviewBenchmark.run()
} else {
    HoursBenchmark.run()
    SlotSearchBenchmark.run()
    RulePreviewBenchmark.run()
}
