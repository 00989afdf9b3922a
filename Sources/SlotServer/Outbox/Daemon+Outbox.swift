import Logging
import LogProvider
import SlotProviders
import SlotStore

/// Builds the outbox worker with its handlers (notifications, the end-of-day sweep, hold expiry), checks the notification
/// routes against the providers (a mistake is a configuration error, exit 78), schedules the first sweep, and
/// connects the worker to the event bus so a committed write wakes it.
func buildOutbox(
    configuration: DaemonConfiguration, store: any SlotStorage, service: BookingService,
    providers: ConfiguredProviders, bus: EventBus, logger: Logger, extraHandlers: [any OutboxJobHandler] = [],
    links: CustomerLinks? = nil
) async throws(StartupError) -> OutboxWorker {
    var notifiers = providers.notifications
    // Deliveries go to `log` when no routes are configured: it exists even when not listed under `providers:`.
    if notifiers[NotificationSettings.defaultProvider] == nil {
        notifiers[NotificationSettings.defaultProvider] = LogNotifier(
            name: NotificationSettings.defaultProvider, logger: logger)
    }
    do {
        try configuration.notifications.validate(providers: Set(notifiers.keys))
    } catch {
        throw StartupError("\(error)", isConfigurationError: true)
    }
    let sweep = EndOfDaySweep(
        store: store, outbox: store, rules: service.rules, clock: configuration.clock,
        endOfDayMinute: configuration.outbox.endOfDayMinute, logger: logger)
    var notifications = NotificationHandler(
        store: store, rules: service.rules, providers: notifiers,
        settings: configuration.notifications, clock: configuration.clock, logger: logger)
    notifications.links = links
    let worker = OutboxWorker(
        store: store,
        handlers: [
            notifications, sweep, HoldExpiryJobs(service: service),
            WaitlistJobs(waitlist: WaitlistService(service: service)),
        ] + extraHandlers,
        clock: configuration.clock, settings: configuration.outbox, logger: logger, publish: { [bus] in bus.publish($0) })
    do {
        try await sweep.ensureScheduled()
    } catch {
        throw StartupError("cannot schedule the end-of-day sweep: \(error.message)")
    }
    bus.afterPublish.withLock { $0 = EventBus.Hook(action: { [weak worker] in worker?.wake() }) }
    // A booking's notification goes straight to this daemon's worker (where the store can lease it in the write).
    if configuration.outbox.workers > 0 { store.leaseOwnJobs(worker.ownJobLease) }
    return worker
}
