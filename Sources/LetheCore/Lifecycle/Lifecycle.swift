import Foundation
import LetheRepository
import LetheStore

/// The tenant lifecycle: active → offboarded → (active again | due) → destroyed.
///
/// Every decision about time reads the installation's clock. A tenant is *due* when it is
/// offboarded, its restore window has passed, and it is not on legal hold; due-ness is
/// computed, never stored, so moving the clock or placing a hold changes it at once.
public struct Lifecycle: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    private var registry: TenantRegistry { TenantRegistry(installation) }

    private func event(_ name: String, _ detail: String?) -> LifecycleEvent {
        LifecycleEvent(time: installation.nowText, event: name, detail: detail, actor: installation.actor)
    }

    /// Saves the changed record and appends the change to the audit log.
    private func commit(_ record: TenantRecord, operation: String) throws -> TenantRecord {
        try registry.save(record)
        let last = record.events.last
        try AuditTrail(installation).record(operation, tenant: record.id, details: last?.detail.map { ["detail": $0] } ?? [:])
        return record
    }

    // MARK: Transitions

    /// The client has left: backups stop, and the restore window starts now.
    public func offboard(_ id: TenantID, windowDays: Int?) throws -> TenantRecord {
        var record = try registry.record(id)
        guard record.state == .active else {
            throw LetheError.refused("tenant \(id) is already offboarded (since \(record.offboardedAt ?? "?"))")
        }
        try requireNoOpenDestruction(id, doing: "offboard")
        let days = windowDays ?? installation.configuration.restoreWindowDays
        guard days >= 0 else { throw LetheError.usage("--window-days must be 0 or more") }
        record.state = .offboarded
        record.offboardedAt = installation.nowText
        record.restoreWindowDays = days
        record.events.append(event("offboarded", "restore window \(Plural.count(days, "day"))"))
        return try commit(record, operation: "tenant.offboard")
    }

    /// The client is back: nightly backups resume.
    public func reactivate(_ id: TenantID) throws -> TenantRecord {
        var record = try registry.record(id)
        guard record.state == .offboarded else { throw LetheError.refused("tenant \(id) is already active") }
        try requireNoOpenDestruction(id, doing: "reactivate")
        record.state = .active
        record.offboardedAt = nil
        record.restoreWindowDays = nil
        record.events.append(event("reactivated", nil))
        return try commit(record, operation: "tenant.reactivate")
    }

    /// Places a legal hold: the tenant cannot be destroyed, and is never due, while it stands.
    public func hold(_ id: TenantID, reason: String) throws -> TenantRecord {
        var record = try registry.record(id)
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw LetheError.usage("a legal hold needs a --reason") }
        if let hold = record.legalHold {
            throw LetheError.refused("tenant \(id) is already on legal hold since \(hold.since): \(hold.reason)")
        }
        record.legalHold = LegalHold(reason: reason, since: installation.nowText, by: installation.actor)
        record.events.append(event("hold", reason))
        return try commit(record, operation: "tenant.hold")
    }

    /// Lifts the legal hold; the reason for lifting it is recorded.
    public func release(_ id: TenantID, reason: String) throws -> TenantRecord {
        var record = try registry.record(id)
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw LetheError.usage("releasing a hold needs a --reason") }
        guard let hold = record.legalHold else { throw LetheError.refused("tenant \(id) is not on legal hold") }
        record.legalHold = nil
        record.events.append(event("released", "\(reason) (hold was: \(hold.reason))"))
        return try commit(record, operation: "tenant.release")
    }

    /// Sets or clears the tenant's own retention policy.
    public func setRetention(_ id: TenantID, _ policy: RetentionPolicy?) throws -> TenantRecord {
        var record = try registry.record(id)
        try policy?.validate().map { throw LetheError.usage($0) }
        record.retention = policy
        record.events.append(event("retention", policy?.summary ?? "default"))
        return try commit(record, operation: "tenant.retention")
    }

    // MARK: Rules

    /// Backups are for active tenants with no destruction in progress.
    public func requireBackupAllowed(_ record: TenantRecord) throws {
        guard record.state == .active else {
            throw LetheError.refused(
                "tenant \(record.id) was offboarded on \(record.offboardedAt ?? "?"): no new backups (`lethe tenant reactivate \(record.id)` resumes them)")
        }
        try requireNoOpenDestruction(record.id, doing: "back up")
    }

    /// Restores and exports: active tenants, and offboarded ones inside their window or on
    /// hold; never once destruction has started.
    public func requireRestoreAllowed(_ record: TenantRecord) throws {
        if let request = try DestructionRequests(installation).open(for: record.id), request.status == .executing {
            throw LetheError.refused("tenant \(record.id) is being destroyed (request \(request.id))")
        }
        guard record.state == .offboarded, record.legalHold == nil, let end = windowEnd(record) else { return }
        if installation.now >= end {
            throw LetheError.refused(
                "tenant \(record.id)'s restore window ended on \(Timestamp.format(end)); its data is due for destruction")
        }
    }

    /// Refuses when a destruction request for the tenant is open (pending, approved, executing).
    public func requireNoOpenDestruction(_ id: TenantID, doing: String) throws {
        if let request = try DestructionRequests(installation).open(for: id) {
            throw LetheError.refused(
                "cannot \(doing) tenant \(id): destruction request \(request.id) is \(request.status.rawValue) (`lethe destroy cancel \(request.id)` first)")
        }
    }

    /// When an offboarded tenant's restore window ends.
    public func windowEnd(_ record: TenantRecord) -> Date? {
        guard record.state == .offboarded, let start = record.offboardedAt.flatMap(Timestamp.parse) else { return nil }
        let days = record.restoreWindowDays ?? installation.configuration.restoreWindowDays
        return start.addingTimeInterval(TimeInterval(days) * 86_400)
    }

    /// A tenant past its window and not on hold.
    public struct Due: Codable, Sendable, Equatable {
        public let tenant: String
        public let name: String
        public let offboardedAt: String
        public let restoreWindowDays: Int
        public let windowEnd: String
        public let daysOverdue: Int
        /// The open destruction request, if one exists already.
        public let destructionRequest: String?
    }

    /// Every due tenant, most overdue first. A tenant whose destruction request is damaged
    /// counts as having that request: it is reported, and no second one is opened beside it.
    public func due() throws -> [Due] {
        var requestOf: [String: String] = [:]
        for listed in try DestructionRequests(installation).list() {
            switch listed {
            case .entry(let entry) where entry.status.isOpen: requestOf[entry.request.tenant] = entry.id
            case .damaged(let id, let tenant?, _): requestOf[tenant] = id
            default: break
            }
        }
        return try registry.list().compactMap { record -> Due? in
            guard record.legalHold == nil, let end = windowEnd(record), installation.now >= end else { return nil }
            let overdue = Int(installation.now.timeIntervalSince(end) / 86_400)
            return Due(
                tenant: record.id.rawValue, name: record.name, offboardedAt: record.offboardedAt ?? "",
                restoreWindowDays: record.restoreWindowDays ?? installation.configuration.restoreWindowDays,
                windowEnd: Timestamp.format(end), daysOverdue: overdue,
                destructionRequest: requestOf[record.id.rawValue])
        }.sorted { $0.daysOverdue > $1.daysOverdue }
    }

    /// Whether the tenant is due now.
    public func isDue(_ record: TenantRecord) -> Bool {
        guard record.legalHold == nil, let end = windowEnd(record) else { return false }
        return installation.now >= end
    }
}
