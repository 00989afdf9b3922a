import Foundation
import SlotProviders
import Yams

/// The `notifications:` section of slotd.yaml: which events go to which providers, in which language, with which
/// templates.
///
/// ```yaml
/// notifications:
///   language: de
///   routes:
///     - on: [booking.created, booking.reminder]
///       to: [mail, sms]
///   templates:
///     booking.created: { subject: "Termin: {{service}} am {{date}}", body: "…" }
/// ```
public struct NotificationSettings: Sendable, Hashable {
    /// One route: these events go to these providers.
    public struct Route: Sendable, Hashable {
        public var events: [String]
        public var providers: [String]
        /// Where `to:` was written, for a provider name that does not exist.
        public var line: Int?
        public var column: Int?
    }

    /// Every event a route or template may name.
    public static let events = [
        "booking.created", "booking.confirmed", "booking.cancelled", "booking.rescheduled", "booking.reminder",
        "booking.completed", "booking.no_show", "booking.expired", "day.summary", "waitlist.offered",
    ]

    /// The provider deliveries go to when no routes are configured.
    public static let defaultProvider = "log"

    public var language: MessageLanguage = .en
    /// Empty: every event goes to the `log` provider.
    public var routes: [Route] = []
    /// Templates that replace the built-in ones, by event.
    public var templates: [String: MessageTemplate] = [:]
    /// The configuration file, for errors found later (an unknown provider).
    public var file = "slotd.yaml"

    public init() {}

    /// The template for an event: the configured one, else the built-in one in the shop's language.
    public func template(for event: String) -> MessageTemplate {
        templates[event] ?? language.defaultTemplates[event]
            ?? MessageTemplate(subject: "{{shop}}: " + event, body: "{{booking}}")
    }

    /// The providers an event goes to, each once, in the order the routes name them.
    public func providers(for event: String) -> [String] {
        if routes.isEmpty { return [Self.defaultProvider] }
        var names: [String] = []
        for route in routes where route.events.contains(event) {
            for name in route.providers where !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// Checks every route target against the configured notification providers.
    func validate(providers: Set<String>) throws(ConfigurationError) {
        for route in routes {
            for name in route.providers where !providers.contains(name) {
                let known = providers.sorted().joined(separator: ", ")
                throw ConfigurationError(
                    file: file, line: route.line, column: route.column,
                    message: "route target '\(name)' is not a notification provider — add it under `providers:` "
                        + "or use one of: \(known.isEmpty ? "(none configured)" : known)")
            }
        }
    }

    /// Parses the `notifications:` mapping.
    static func parse(_ node: Node, file: String) throws(ConfigurationError) -> NotificationSettings {
        func fail(_ node: Node, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
        }
        func names(_ node: Node, _ what: String) throws(ConfigurationError) -> [String] {
            if let single = node.scalar?.string, !single.isEmpty { return [single] }
            guard let sequence = node.sequence, !sequence.isEmpty else {
                throw fail(node, "`\(what)` must be a list like [\(what == "on" ? "booking.created" : "mail")]")
            }
            var out: [String] = []
            for item in sequence {
                guard let text = item.scalar?.string, !text.isEmpty else { throw fail(item, "expected a name") }
                if what == "on" && !events.contains(text) {
                    throw fail(item, "unknown event '\(text)' — use \(events.joined(separator: ", "))")
                }
                out.append(text)
            }
            return out
        }
        guard let mapping = node.mapping else {
            throw fail(node, "`notifications` must be a mapping with language, routes and templates")
        }
        var settings = NotificationSettings()
        settings.file = file
        // Each setting's, route's and template's mistakes are reported, not only the first.
        var problems: [ConfigurationProblem] = []
        for (keyNode, value) in mapping {
            ConfigurationFile.collect(into: &problems) { () throws(ConfigurationError) in
                switch keyNode.string ?? "" {
                case "language":
                    guard let language = value.string.flatMap(MessageLanguage.init(rawValue:)) else {
                        throw fail(value, "`language` must be de or en (the built-in templates' languages)")
                    }
                    settings.language = language
                case "routes":
                    guard let sequence = value.sequence else {
                        throw fail(value, "`routes` must be a list of `{ on: [events], to: [providers] }`")
                    }
                    var routeProblems: [ConfigurationProblem] = []
                    for item in sequence {
                        ConfigurationFile.collect(into: &routeProblems) { () throws(ConfigurationError) in
                            guard let route = item.mapping else {
                                throw fail(item, "a route must be a mapping `{ on: [events], to: [providers] }`")
                            }
                            var on: [String]?
                            var to: [String]?
                            var mark = item.mark
                            for (routeKey, routeValue) in route {
                                switch routeKey.string ?? "" {
                                case "on": on = try names(routeValue, "on")
                                case "to":
                                    to = try names(routeValue, "to")
                                    mark = routeValue.mark
                                default:
                                    throw fail(
                                        routeKey, "unknown key '\(routeKey.string ?? "")' in a route — use on and to")
                                }
                            }
                            guard let on, let to else {
                                throw fail(item, "a route needs both `on:` (events) and `to:` (provider names)")
                            }
                            settings.routes.append(
                                Route(events: on, providers: to, line: mark?.line, column: mark?.column))
                        }
                    }
                    if !routeProblems.isEmpty { throw ConfigurationError(problems: routeProblems) }
                case "templates":
                    guard let templates = value.mapping else {
                        throw fail(value, "`templates` must map events to `{ subject: …, body: … }`")
                    }
                    var templateProblems: [ConfigurationProblem] = []
                    for (eventNode, templateNode) in templates {
                        ConfigurationFile.collect(into: &templateProblems) { () throws(ConfigurationError) in
                            let event = eventNode.string ?? ""
                            guard events.contains(event) else {
                                throw fail(
                                    eventNode, "unknown event '\(event)' — use \(events.joined(separator: ", "))")
                            }
                            guard let fields = templateNode.mapping else {
                                throw fail(templateNode, "the template of \(event) must be `{ subject: …, body: … }`")
                            }
                            var subject: String?
                            var body: String?
                            for (fieldKey, fieldValue) in fields {
                                let text = fieldValue.string
                                switch fieldKey.string ?? "" {
                                case "subject": subject = text
                                case "body": body = text
                                default:
                                    throw fail(
                                        fieldKey,
                                        "unknown key '\(fieldKey.string ?? "")' in a template — use subject and body")
                                }
                                if text == nil { throw fail(fieldValue, "expected text") }
                                let unknown = MessageTemplate.placeholders(in: text ?? "").filter {
                                    !MessageTemplate.fields.contains($0)
                                }
                                if let first = unknown.first {
                                    throw fail(
                                        fieldValue,
                                        "unknown field {{\(first)}} in the template of \(event) — use "
                                            + MessageTemplate.fields.sorted().joined(separator: ", "))
                                }
                            }
                            guard let subject, let body else {
                                throw fail(templateNode, "the template of \(event) needs both `subject` and `body`")
                            }
                            settings.templates[event] = MessageTemplate(subject: subject, body: body)
                        }
                    }
                    if !templateProblems.isEmpty { throw ConfigurationError(problems: templateProblems) }
                default:
                    throw fail(
                        keyNode,
                        "unknown key '\(keyNode.string ?? "")' in `notifications` — use language, routes or templates")
                }
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return settings
    }
}
