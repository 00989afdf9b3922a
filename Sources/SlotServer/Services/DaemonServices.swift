import Logging
import ServiceLifecycle
import SlotStore
import UnixSignals

/// Reloads the rules on SIGHUP through the one `RuleReloader`; a bad rule set is logged and the old one keeps serving.
struct RuleReloadService: Service {
    let reloader: RuleReloader
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading rules")
            await reloader.reload(.signal)
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
