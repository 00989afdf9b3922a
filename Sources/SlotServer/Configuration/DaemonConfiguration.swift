import Foundation
import Logging
import SlotAPI
import SlotProviders
import SlotStore
import SlotStorePostgres

/// Everything `buildDaemon` needs: where the socket, database and rules are, who may do what, and the knobs tests
/// turn (clock, heartbeat, buffer sizes).
public struct DaemonConfiguration: Sendable {
    /// The Unix socket the API listens on.
    public var socketPath: String
    /// The socket file's permission bits, set at bind time (e.g. `0o660`).
    public var socketMode: UInt16
    /// The group that owns the socket file (a name or a numeric gid); nil keeps the daemon's group.
    public var socketGroup: String?
    /// The SQLite file, or `:memory:` for the in-memory store (tests and demos: nothing survives a restart).
    public var databasePath: String
    /// The PostgreSQL store from a `postgres:` block (its password read from `password_file`); when set it is the
    /// store, and `databasePath` only shows it (the URL without the password).
    public var postgres: PostgresLocation?
    /// The rules directory (every `*.yaml` in it, in name order).
    public var rulesDirectory: String
    /// Role of each peer uid; a uid not listed gets 403.
    public var roles: [UInt32: Role]
    /// The `providers:` entries of the configuration file, by name.
    public var providers: [String: ProviderSettings]
    /// The payment provider's name: `manual` (pay at the shop, the default) or an entry of `providers`.
    public var paymentProvider: String = "manual"
    /// Where `payments:` was written, for errors found when the providers are built.
    public var paymentProviderMark: (line: Int?, column: Int?) = (nil, nil)
    /// The daemon's wall clock (tests pin it).
    public var clock: WallClock
    /// How often an idle event stream gets a heartbeat line.
    public var heartbeatInterval: Duration
    /// How many undelivered lines a stream subscriber may lag behind before it is cut off with `overflow`.
    public var subscriberBufferSize: Int
    /// Header and idle timeouts, the connection cap of each listener and the streams' stall limit (`server:`).
    public var connectionLimits = ConnectionLimits()
    /// The largest request body accepted.
    public var maxBodyBytes: Int
    /// Where logs go and how verbose.
    public var logLevel: Logger.Level
    /// The outbox worker's knobs (`outbox:`).
    public var outbox = OutboxSettings()
    /// Notification routes, language and templates (`notifications:`).
    public var notifications = NotificationSettings()
    /// The default country of customers' phone numbers (`country:`, ISO 3166): a number without `+` or `00` gets its
    /// calling code (`0151 1234567` → `+491511234567`).
    public var country = "DE"
    /// The public web listener (`web:`); nil runs none.
    public var web: WebSettings?
    /// Whether to reload the rules when a file in their directory changes (inotify); SIGHUP and the API always work.
    public var watchRules = true
    /// How long the rules directory must be quiet after a change before the reload (editors write in bursts).
    public var ruleWatchQuietMilliseconds: UInt64 = 300

    public init(
        socketPath: String, socketMode: UInt16 = 0o600, socketGroup: String? = nil, databasePath: String,
        rulesDirectory: String, roles: [UInt32: Role] = DaemonConfiguration.defaultRoles(),
        providers: [String: ProviderSettings] = [:], clock: WallClock = .system, heartbeatInterval: Duration = .seconds(15),
        subscriberBufferSize: Int = 1024, maxBodyBytes: Int = APIVersion.maxBodyBytes, logLevel: Logger.Level = .info
    ) {
        self.socketPath = socketPath
        self.socketMode = socketMode
        self.socketGroup = socketGroup
        self.databasePath = databasePath
        self.rulesDirectory = rulesDirectory
        self.roles = roles
        self.providers = providers
        self.clock = clock
        self.heartbeatInterval = heartbeatInterval
        self.subscriberBufferSize = subscriberBufferSize
        self.maxBodyBytes = maxBodyBytes
        self.logLevel = logLevel
    }

    /// Without a config file: the uid running slotd is `admin`, everyone else has no role.
    public static func defaultRoles() -> [UInt32: Role] { [getuid(): .admin] }

    /// A database setting as the daemon uses it: `:memory:` and a `postgres://` URL as they are (no file), a relative
    /// path under `directory`.
    public static func databasePath(_ setting: String, relativeTo directory: String) -> String {
        !DatabaseSetting.isFile(setting) || setting.hasPrefix("/") ? setting : directory + "/" + setting
    }

    /// The development default: rules from `./Rules`, database and socket in `./state/`.
    public static func development(directory: String = FileManager.default.currentDirectoryPath) -> Self {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return DaemonConfiguration(
            socketPath: base + "/state/slotd.sock", databasePath: base + "/state/slotd.sqlite",
            rulesDirectory: base + "/Rules")
    }
}
