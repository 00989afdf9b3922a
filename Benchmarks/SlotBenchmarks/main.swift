// Prints benchmark figures; run with `Benchmarks/run.sh` (release build). Not a test: figures, not verdicts.
HoursBenchmark.run()
SlotSearchBenchmark.run()
