import Foundation
import LetheRepository
import LetheStore

/// Where a tenant is in its lifecycle. "Due" and "destroyed" are not states of the record:
/// due-ness is computed from the offboarding time, the window and any hold; a destroyed
/// tenant has no record left, only its destruction report.
public enum TenantState: String, Codable, Sendable {
    /// Backed up every night; retention applies.
    case active
    /// The client has left: no new backups; data kept for the restore window.
    case offboarded
}

/// A legal hold: the tenant's data may not be destroyed while it stands.
public struct LegalHold: Codable, Equatable, Sendable {
    public var reason: String
    public var since: String
    public var by: String
}

/// One recorded change of a tenant (added, offboarded, hold placed, …).
public struct LifecycleEvent: Codable, Equatable, Sendable {
    public var time: String
    public var event: String
    public var detail: String?
    public var actor: String
}

/// Everything Lethe knows about a tenant besides its backups. Stored sealed with the tenant's
/// key at `tenants/<t>/tenant`, so it is destroyed with the tenant, and mirrored in the catalog.
public struct TenantRecord: Codable, Equatable, Sendable {
    public var id: TenantID
    public var name: String
    public var sources: [TenantSource]
    public var created: String
    public var state: TenantState
    public var offboardedAt: String?
    /// The restore window in force for this offboarding (fixed when it began).
    public var restoreWindowDays: Int?
    public var legalHold: LegalHold?
    /// Overrides the configured retention policy.
    public var retention: RetentionPolicy?
    /// The tenant's entry in the record of processing activities, once one is set.
    public var register: DataRegister?
    public var events: [LifecycleEvent]

    public init(id: TenantID, name: String, sources: [TenantSource], created: String, actor: String) {
        self.id = id
        self.name = name
        self.sources = sources
        self.created = created
        state = .active
        events = [LifecycleEvent(time: created, event: "added", detail: nil, actor: actor)]
    }

    /// The record in `plaintext`, the authenticated content of `key`.
    package static func decode(_ plaintext: [UInt8], key: ObjectKey) throws -> TenantRecord {
        do {
            return try JSONDecoder().decode(TenantRecord.self, from: Data(plaintext))
        } catch {
            throw LetheError.integrity("\(key) authenticates but is not a tenant record")
        }
    }
}
