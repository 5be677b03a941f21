import Foundation
import LetheStore

/// Which security property an incident concerns (the three kinds of personal data breach).
public enum IncidentType: String, Codable, Sendable, CaseIterable {
    case confidentiality
    case integrity
    case availability
}

/// Where an incident is: open until someone acknowledges it, closed with a note.
public enum IncidentStatus: String, Codable, Sendable {
    case open
    case acknowledged
    case closed

    /// Open and acknowledged incidents are still running: a re-detection updates them, and
    /// their Art. 33 clock is shown.
    public var isRunning: Bool { self != .closed }
}

/// A person's note on an incident: who acknowledged or closed it, when, and why.
public struct IncidentNote: Codable, Equatable, Sendable {
    public var at: String
    public var by: String
    public var note: String
}

/// A security incident, as the audit log makes it: folded from its `incident.*` entries, which
/// are signed and anchored like every other entry, so no file H or S can write says what the
/// incidents are. `key` names the problem (`integrity/verify/acme`), so that detecting the same
/// problem again updates the running incident instead of opening another.
public struct Incident: Codable, Equatable, Sendable {
    public var id: String
    public var type: IncidentType
    public var key: String
    public var summary: String
    /// What found it: verify, nightly, destroy, audit-verify, backup.
    public var source: String
    public var detected: String
    /// The Art. 33 deadline: 72 hours after detection, for the controller's notification of
    /// the supervisory authority; the processor informs the controller without undue delay.
    public var deadline: String
    public var tenants: [String]
    public var objects: [String]
    public var status: IncidentStatus
    public var lastDetected: String
    public var detections: Int
    public var acknowledged: IncidentNote?
    public var closed: IncidentNote?
    /// The audit entries that make it, in order.
    public var entries: [Int]

    public static let deadlineHours = 72

    /// Hours left on the Art. 33 clock at `now` (negative once it has run out), to one decimal.
    public func hoursLeft(at now: Date) -> Double {
        guard let end = Timestamp.parse(deadline) else { return 0 }
        return (end.timeIntervalSince(now) / 360).rounded() / 10
    }

    /// The operations of its entries.
    public enum Operation: String, CaseIterable, Sendable {
        case open = "incident.open"
        case update = "incident.update"
        case acknowledge = "incident.ack"
        case close = "incident.close"
    }

    /// Every incident the entries make, in the order they were opened. Entries that do not fit
    /// (an update of an unknown incident, an open without a type) are an integrity error: they
    /// are signed, so only Lethe wrote them, and a fold that skipped them would hide an incident.
    public static func fold(_ entries: [AuditEntry]) throws -> [Incident] {
        var incidents: [Incident] = []
        var position: [String: Int] = [:]
        for entry in entries {
            guard let operation = Operation(rawValue: entry.operation) else { continue }
            guard let id = entry.details["incident"] else {
                throw LetheError.integrity("audit entry \(entry.index) (\(entry.operation)) names no incident")
            }
            func list(_ name: String, _ separator: String) -> [String] {
                (entry.details[name] ?? "").components(separatedBy: separator).filter { !$0.isEmpty }
            }
            if operation == .open {
                guard position[id] == nil, let type = entry.details["type"].flatMap(IncidentType.init(rawValue:)),
                      let key = entry.details["key"], let deadline = entry.details["deadline"] else {
                    throw LetheError.integrity("audit entry \(entry.index) opens incident \(id) badly (a second open, or no type, key or deadline)")
                }
                position[id] = incidents.count
                incidents.append(Incident(
                    id: id, type: type, key: key, summary: entry.details["summary"] ?? "", source: entry.details["source"] ?? "",
                    detected: entry.time, deadline: deadline, tenants: list("tenants", " "), objects: list("objects", "\n"),
                    status: .open, lastDetected: entry.time, detections: 1, acknowledged: nil, closed: nil, entries: [entry.index]))
                continue
            }
            guard let at = position[id], incidents[at].status.isRunning else {
                throw LetheError.integrity("audit entry \(entry.index) (\(entry.operation)) is about incident \(id), which is not running")
            }
            incidents[at].entries.append(entry.index)
            let note = IncidentNote(at: entry.time, by: entry.actor, note: entry.details["note"] ?? "")
            switch operation {
            case .open:
                break
            case .update:
                incidents[at].lastDetected = entry.time
                incidents[at].detections += 1
                incidents[at].objects = Array(Set(incidents[at].objects + list("objects", "\n"))).sorted()
                incidents[at].tenants = Array(Set(incidents[at].tenants + list("tenants", " "))).sorted()
            case .acknowledge:
                incidents[at].status = .acknowledged
                incidents[at].acknowledged = note
            case .close:
                incidents[at].status = .closed
                incidents[at].closed = note
            }
        }
        return incidents
    }
}

/// What the notification of an opened incident says (JSON on the command's standard input,
/// or the webhook's body).
public struct IncidentEvent: Codable, Sendable, Equatable {
    public var event: String
    public var incident: String
    public var type: IncidentType
    public var summary: String
    public var tenants: [String]
    public var objects: [String]
    public var detected: String
    public var deadline: String
    public var host: String
}
