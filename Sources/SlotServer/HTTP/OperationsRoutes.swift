import Foundation
import Hummingbird
import NIOCore
import SlotAPI
import SlotBlocking
import SlotCore
import SlotEngine
import SlotStore
import SlotStorePostgres

#if canImport(Glibc)
    import Glibc
#endif

/// The operator's routes: reload, status, metrics, conflicts, backup and export.
struct OperationsRoutes: Sendable {
    let service: BookingService
    let reloader: RuleReloader
    let store: any BookingStore & OperationsStore
    let metrics: DaemonMetrics
    let configuration: DaemonConfiguration
    let providers: ProvidersSummary
    let startedAt: Int64
    let version: String

    /// The configured providers by name (no settings, no secrets).
    struct ProvidersSummary: Sendable {
        var payment: String
        var collectsOnline: Bool
        var notifications: [String]
    }

    func register(on router: Router<SlotRequestContext>) {
        router.post("/v1/rules/reload") { _, context in
            try context.require(.admin)
            return try await reloadResponse()
        }
        router.get("/v1/metrics") { _, context in
            try context.require(.read)
            let text = PrometheusText.render(try await snapshot())
            return Response(
                status: .ok, headers: [.contentType: PrometheusText.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/v1/status") { _, context in
            try context.require(.read)
            return try json(try await status(role: context.role?.rawValue ?? ""))
        }
        router.get("/v1/backup") { _, context in
            try context.require(.admin)
            return try await backup()
        }
        router.get("/v1/export") { _, context in
            try context.require(.admin)
            return try await export()
        }
    }

    // MARK: - Reload

    /// `POST /v1/rules/reload`: reloads now (after any reload already running) and answers with the outcome.
    func reloadResponse() async throws -> Response {
        let report = await reloader.reload(.api)
        switch report.outcome {
        case .loaded(let loaded, let previous, let changed):
            return try json(
                RuleReloadResult(
                    changed: changed, previousVersion: previous, version: loaded.version,
                    diagnostics: loaded.warnings.map(RuleHolder.wire)))
        case .rejected(let diagnostics, let message):
            throw APIError(problem: Problem(code: .rulesInvalid, detail: message, diagnostics: diagnostics))
        }
    }

    // MARK: - Conflicts

    /// `GET /v1/bookings?conflicts=true`.
    func conflictList() async throws -> BookingConflictList {
        let loaded = try service.loaded()
        let conflicts = try await RuleConflicts.find(in: store, rules: loaded, now: service.clock.now())
        let wire = WireMapping(zone: loaded.ruleSet.shop.timeZone)
        return BookingConflictList(
            rulesVersion: loaded.version, bookings: conflicts.map { wire.booking($0.booking) },
            conflicts: conflicts.map { conflict in
                BookingConflict(
                    booking: conflict.booking.id,
                    reasons: conflict.reasons)
            })
    }

    // MARK: - Metrics and status

    func snapshot() async throws -> MetricsSnapshot {
        let loaded = try service.loaded()
        let now = service.clock.now()
        return MetricsSnapshot(
            counters: metrics.snapshot, bookingsByState: try await store.bookingCountsByState(),
            outboxByState: try await store.outboxCountsByState(), subscribers: service.bus.subscriberCount,
            uptimeSeconds: now - startedAt, startedAt: startedAt, version: version, rulesVersion: loaded.version,
            rulesLoadedAt: loaded.loadedAt)
    }

    func status(role: String) async throws -> DaemonStatus {
        let loaded = try service.loaded()
        let zone = loaded.ruleSet.shop.timeZone
        let now = service.clock.now()
        let today = zone.localDateTime(atInstant: now).date
        let todays = try await store.bookings(
            matching: BookingQuery(
                from: zone.instant(atWallMinute: today.startWallMinute),
                to: zone.instant(atWallMinute: today.adding(days: 1).startWallMinute), statuses: [.held, .confirmed]))
        var storeCheck: DaemonStatus.StoreCheck
        do {
            try await store.checkWritable()
            let check = try await store.quickCheck()
            storeCheck = DaemonStatus.StoreCheck(
                writable: true, detail: check,
                schemaVersion: store is PostgresBookingStore
                    ? PostgresBookingStore.schemaVersion : SQLiteBookingStore.schemaVersion)
        } catch {
            storeCheck = DaemonStatus.StoreCheck(writable: false, detail: "\(error)")
        }
        let conflicts = (try? await RuleConflicts.find(in: store, rules: loaded, now: now).count) ?? 0
        return DaemonStatus(
            version: version, uptimeSeconds: Int(now - startedAt), role: role, socket: configuration.socketPath,
            database: DatabaseSetting.shown(configuration.databasePath), rulesDirectory: configuration.rulesDirectory,
            rules: DaemonStatus.RulesState(
                version: loaded.version, files: loaded.ruleSet.files, loadedAt: zone.iso8601(instant: loaded.loadedAt),
                timezone: zone.identifier),
            lastReload: reloader.lastReport.map { Self.reloadState($0, zone: zone) }, bookingsToday: todays.count,
            bookingsByState: try await store.bookingCountsByState(),
            outboxByState: try await store.outboxCountsByState(), conflicts: conflicts,
            subscribers: service.bus.subscriberCount, store: storeCheck,
            providers: DaemonStatus.ProvidersState(
                payment: providers.payment, paymentCollectsOnline: providers.collectsOnline,
                notifications: providers.notifications))
    }

    static func reloadState(_ report: RuleReloader.Report, zone: ShopTimeZone) -> DaemonStatus.ReloadState {
        switch report.outcome {
        case .loaded(let loaded, _, let changed):
            return DaemonStatus.ReloadState(
                at: zone.iso8601(instant: report.at), trigger: report.trigger.rawValue,
                outcome: changed ? "loaded" : "unchanged", message: "version \(loaded.version)", errors: [])
        case .rejected(let diagnostics, let message):
            return DaemonStatus.ReloadState(
                at: zone.iso8601(instant: report.at), trigger: report.trigger.rawValue, outcome: "rejected",
                message: message, errors: diagnostics.filter { $0.severity == .error })
        }
    }

    // MARK: - Backup

    /// A consistent copy of the database (SQLite's online backup API), checked with `integrity_check` before it is
    /// sent, so a client never stores a broken backup believing it good.
    func backup() async throws -> Response {
        let directory = FileManager.default.temporaryDirectory.path
        let path = "\(directory)/slotd-backup-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).sqlite"
        defer { unlink(path) }
        // The copy takes the file's pages in steps while writers go on; it blocks, so it runs off the pool.
        let store = self.store
        let data: Data = try await BlockingWork.run {
            try store.backup(to: path)
            let check = try BackupVerifier.integrityCheck(path: path)
            guard check == "ok" else {
                throw APIError(.internalError, "the backup failed its integrity check: \(check)")
            }
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let stamp = service.clock.now()
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/vnd.sqlite3",
                .contentDisposition: "attachment; filename=\"slotd-\(stamp).sqlite\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: - Export

    /// Everything another program needs to take over: the shop, services and staff (from the rules), customers and
    /// bookings (from the database), with times in ISO 8601 with the shop's offset and prices in minor units.
    func export() async throws -> Response {
        let loaded = try service.loaded()
        let shop = loaded.ruleSet.shop
        let wire = WireMapping(zone: shop.timeZone)
        let customers = try await store.customers()
        var bookings: [StoredBooking] = []
        // Paged by start time so a large history does not hit the query's limit.
        var from: Int64? = nil
        var seen = Set<String>()
        while true {
            let page = try await store.bookings(matching: BookingQuery(from: from, limit: 5000))
            let fresh = page.filter { !seen.contains($0.id) }
            bookings += fresh
            for booking in fresh { seen.insert(booking.id) }
            guard page.count == 5000, let last = page.last?.start, fresh.count > 0 else { break }
            from = last
        }
        let document = ExportDocument(
            format: "slotd-export", formatVersion: 1, slotdVersion: version,
            exportedAt: wire.time(service.clock.now()), rulesVersion: loaded.version,
            shop: ShopInfo(
                name: shop.name, timezone: shop.timeZone.identifier, currency: shop.currency,
                slotStepMinutes: shop.slotStepMinutes, minNoticeMinutes: shop.minNoticeMinutes,
                horizonMinutes: shop.horizonMinutes),
            services: loaded.ruleSet.services.map { wire.service($0, staff: loaded.ruleSet.staff) },
            staff: loaded.ruleSet.staff.map { StaffInfo(id: $0.id, name: $0.name, services: $0.services) },
            customers: customers.map { customer in
                ExportDocument.Customer(
                    id: customer.id, name: customer.name, email: customer.email, phone: customer.phone,
                    createdAt: wire.time(customer.createdAt), updatedAt: wire.time(customer.updatedAt))
            },
            bookings: bookings.map(wire.booking))
        return try json(document)
    }
}

/// `GET /v1/export`: the documented shape for moving to other software (see README, "Export").
struct ExportDocument: Encodable, Sendable {
    var format: String
    var formatVersion: Int
    var slotdVersion: String
    var exportedAt: String
    var rulesVersion: String
    var shop: ShopInfo
    var services: [ServiceInfo]
    var staff: [StaffInfo]
    var customers: [Customer]
    /// Each carries its `customer_id`.
    var bookings: [BookingDetails]

    enum CodingKeys: String, CodingKey {
        case format, shop, services, staff, customers, bookings
        case formatVersion = "format_version"
        case slotdVersion = "slotd_version"
        case exportedAt = "exported_at"
        case rulesVersion = "rules_version"
    }

    struct Customer: Encodable, Sendable {
        var id: String
        var name: String
        var email: String?
        var phone: String?
        var createdAt: String
        var updatedAt: String

        enum CodingKeys: String, CodingKey {
            case id, name, email, phone
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        /// Every key always present (`null` when unknown), so importers see one shape.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(email, forKey: .email)
            try container.encode(phone, forKey: .phone)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
        }
    }
}
