import Foundation
import LetheCrypto
import LetheStore

/// Security incidents: opened by what Lethe detects (an integrity violation, a destruction
/// check that failed, tampering, backups failing night after night), acknowledged and closed
/// by people. Their state is only ever the fold of the signed audit log (`Incident.fold`), so
/// it is exactly as trustworthy as the log: H editing a file cannot open, hide or close one.
public struct Incidents: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    /// A problem found: what it is, and the key that makes a second finding of it the same one.
    public struct Detection: Sendable {
        public var type: IncidentType
        public var key: String
        public var summary: String
        public var source: String
        public var tenants: [String]
        public var objects: [String]

        public init(type: IncidentType, key: String, summary: String, source: String, tenants: [String], objects: [String]) {
            self.type = type
            self.key = key
            self.summary = summary
            self.source = source
            self.tenants = tenants
            self.objects = objects
        }
    }

    /// What `detect` did.
    public struct Outcome: Sendable {
        public var incident: Incident
        /// True when this detection opened it; false when it updated a running one.
        public var opened: Bool
        public var notificationFailures: [String]
    }

    /// At most this many objects, each cut to this length, go into one entry: an audit entry is
    /// at most 64 KiB, and a verification of a wrecked repository can name thousands.
    static let objectLimit = 50
    static let objectLength = 300

    /// Every incident, folded from the proven log.
    public func all() throws -> [Incident] {
        try Incident.fold(try AuditTrail(installation).history().entries)
    }

    public func running() throws -> [Incident] {
        try all().filter { $0.status.isRunning }
    }

    public func incident(_ id: String) throws -> Incident {
        guard let found = try all().first(where: { $0.id == id }) else {
            throw LetheError.usage("unknown incident \(id) (see `lethe incident list --all`)")
        }
        return found
    }

    /// Records `detection`: updates the running incident with its key, or opens one and fires
    /// the configured notification. Holds the incidents' lease, so that two workers finding the
    /// same problem at once open it once.
    @discardableResult
    public func detect(_ detection: Detection) throws -> Outcome {
        let (incident, opened) = try Lease.holding(
            "incidents", store: installation.store, worker: installation.worker, clock: installation.clock, duration: 60, wait: 120
        ) { try record(detection) }
        guard opened else { return Outcome(incident: incident, opened: false, notificationFailures: []) }
        let failures = Notifier(settings: installation.configuration.notifications).send(IncidentEvent(
            event: "incident.opened", incident: incident.id, type: incident.type, summary: incident.summary, tenants: incident.tenants,
            objects: incident.objects, detected: incident.detected, deadline: incident.deadline, host: ProcessInfo.processInfo.hostName))
        if !failures.isEmpty {
            try AuditTrail(installation).record("notification.failed", tenant: Incidents.tenant(of: incident.tenants), details: [
                "event": "incident.opened", "incident": incident.id, "failures": failures.joined(separator: "; "),
            ])
        }
        return Outcome(incident: incident, opened: true, notificationFailures: failures)
    }

    /// Detections of several problems, each recorded; one that cannot be recorded does not stop
    /// the others, and its failure is returned as a line for the caller to report.
    public func detect(_ detections: [Detection]) -> [String] {
        detections.compactMap { detection in
            do {
                try detect(detection)
                return nil
            } catch {
                return "incident \(detection.key) could not be recorded: \(error)"
            }
        }
    }

    private func record(_ detection: Detection) throws -> (Incident, Bool) {
        let objects = detection.objects.prefix(Incidents.objectLimit).map { String($0.prefix(Incidents.objectLength)) }
            + (detection.objects.count > Incidents.objectLimit ? ["… and \(detection.objects.count - Incidents.objectLimit) more"] : [])
        let time = installation.nowText
        var details = [
            "tenants": detection.tenants.sorted().joined(separator: " "), "objects": objects.joined(separator: "\n"),
        ]
        if let running = try running().first(where: { $0.key == detection.key }) {
            details["incident"] = running.id
            try AuditTrail(installation).record(Incident.Operation.update.rawValue, tenant: Incidents.tenant(of: detection.tenants), details: details)
            return (try incident(running.id), false)
        }
        guard let detected = Timestamp.parse(time) else { throw LetheError.failed("the clock gives an unreadable time \(time)") }
        let date = time.prefix(10).replacingOccurrences(of: "-", with: "")
        let id = "inc-\(date)-\(Hex.encode(try SystemRandom.bytes(count: 4)))"
        details["incident"] = id
        details["type"] = detection.type.rawValue
        details["key"] = detection.key
        details["summary"] = String(detection.summary.prefix(1000))
        details["source"] = detection.source
        details["deadline"] = Timestamp.format(detected.addingTimeInterval(TimeInterval(Incident.deadlineHours * 3600)))
        try AuditTrail(installation).record(Incident.Operation.open.rawValue, tenant: Incidents.tenant(of: detection.tenants), details: details)
        return (try incident(id), true)
    }

    /// Acknowledges a running incident: someone is on it. The clock keeps running.
    public func acknowledge(_ id: String, note: String) throws -> Incident {
        try change(id, .acknowledge, note: note) { incident in
            guard incident.status == .open else {
                throw LetheError.refused("incident \(id) is \(incident.status.rawValue) already")
            }
        }
    }

    /// Closes an incident with the note that says how it ended.
    public func close(_ id: String, note: String) throws -> Incident {
        try change(id, .close, note: note) { incident in
            guard incident.status.isRunning else { throw LetheError.refused("incident \(id) is closed already (\(incident.closed?.at ?? "?"))") }
        }
    }

    private func change(_ id: String, _ operation: Incident.Operation, note: String, check: (Incident) throws -> Void) throws -> Incident {
        guard !note.trimmingCharacters(in: .whitespaces).isEmpty else { throw LetheError.usage("give a --note saying what was done") }
        guard note.utf8.count <= 4000 else { throw LetheError.usage("the --note is longer than 4000 bytes") }
        return try Lease.holding(
            "incidents", store: installation.store, worker: installation.worker, clock: installation.clock, duration: 60, wait: 120
        ) {
            let incident = try incident(id)
            try check(incident)
            try AuditTrail(installation).record(operation.rawValue, tenant: Incidents.tenant(of: incident.tenants), details: [
                "incident": id, "note": note,
            ])
            return try self.incident(id)
        }
    }

    /// A destruction request whose state disagrees with the log (rolled back or replaced) or
    /// cannot be read: tampering with what decides a destruction, an integrity incident each.
    public static func tampering(in listed: [DestructionRequests.Listed], source: String) -> [Detection] {
        listed.compactMap { item in
            guard case .damaged(let id, let tenant, let problem) = item else { return nil }
            return Detection(
                type: .integrity, key: "tamper/destruction/\(id)", summary: "destruction request \(id) is damaged: \(problem)",
                source: source, tenants: tenant.map { [$0] } ?? [], objects: ["\(problem)"])
        }
    }

    /// The tenant an entry about an incident is filed under: the affected tenant when there is
    /// exactly one (so it is in that tenant's extract), else none, so that an incident naming
    /// several tenants is never handed to one of them.
    static func tenant(of tenants: [String]) -> TenantID? {
        tenants.count == 1 ? try? TenantID(tenants[0]) : nil
    }
}
