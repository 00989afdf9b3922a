enum HoursBenchmark { static func run() {} }
