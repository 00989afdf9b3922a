import Logging
import ServiceLifecycle
import SlotStore
import UnixSignals

/// Expires due holds: wakes at the next known expiry or every `interval`, whichever is sooner.
struct HoldExpiryService: Service {
    let service: BookingService
    let interval: Duration
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try Task.checkCancellation()
                    do {
                        try await service.expireHolds()
                    } catch let error as CancellationError {
                        throw error
                    } catch {
                        logger.error("hold expiry failed", metadata: ["error": "\(error)"])
                    }
                    var wait = interval
                    if let next = try? await service.store.nextHoldExpiry() {
                        let seconds = max(1, next - service.clock.now())
                        wait = min(wait, .seconds(seconds))
                    }
                    try await Task.sleep(for: wait)
                }
            }
        } catch is CancellationError {
            return
        }
    }
}

/// Reloads the rules on SIGHUP; a bad rule set is logged and the old one keeps serving.
struct RuleReloadService: Service {
    let rules: RuleHolder
    let bus: EventBus
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading rules")
            switch rules.reloadNotifyingSystemd(trigger: "SIGHUP") {
            case .loaded(_, _, let changed):
                if changed { bus.publishRulesChanged() }
            case .rejected(_, let message):
                logger.error("reload rejected; the old rules stay in force", metadata: ["reason": "\(message)"])
            }
        }
    }
}

/// Owns the store's lifetime: it is the first service up and the last down, closing the database cleanly.
struct StoreService: Service {
    let close: @Sendable () async -> Void
    let bus: EventBus
    let logger: Logger

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            // Cancelled: still close below.
        }
        bus.close()
        await close()
        logger.info("store closed")
    }
}
