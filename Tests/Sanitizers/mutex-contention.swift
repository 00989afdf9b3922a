// Why tsan.supp suppresses races inside `Mutex.withLock` closures: on Linux, Swift's `Mutex` (Synchronization) is a
// priority-inheritance futex. Uncontended, it locks and unlocks with atomics that ThreadSanitizer sees; contended,
// the kernel hands the lock over (FUTEX_LOCK_PI / FUTEX_UNLOCK_PI), which ThreadSanitizer cannot see, so two
// critical sections look concurrent. This program is correct (it prints 800000) and still gets dozens of reports;
// the same program on NSLock (pthread, which ThreadSanitizer intercepts) gets none. Not part of any target.
//
//   swiftc -sanitize=thread -O Tests/Sanitizers/mutex-contention.swift -o /tmp/mutex-contention
//   TSAN_OPTIONS=halt_on_error=0 /tmp/mutex-contention     # "total 800000", then "reported N warnings"
import Foundation
import Synchronization

final class Counts: Sendable {
    let table = Mutex<[String: Int]>([:])

    func bump(_ key: String) {
        _ = table.withLock { $0[key] }  // a read and a write in separate critical sections, as in a cache
        table.withLock { $0[key, default: 0] += 1 }
    }

    var total: Int { table.withLock { $0.values.reduce(0, +) } }
}

let counts = Counts()
let threads = (0..<4).map { offset in
    Thread { for index in 0..<200_000 { counts.bump("k\((index + offset) % 7)") } }
}
threads.forEach { $0.start() }
while counts.total < 800_000 { usleep(10_000) }
print("total", counts.total)
