enum SlotSearchBenchmark { static func run() {} }
