import Foundation
import LetheRepository

/// One person's erasure, as the DPO recorded it: who (by the controller's own reference),
/// why, and the rules that remove them. Held only inside the tenant's sealed ledger, as it
/// holds the person's reference and the values of the rules.
public struct ErasureRequest: Codable, Equatable, Sendable {
    public let id: String
    public let tenant: String
    /// The controller's reference for the person (a ticket, a customer number, an email).
    public let subjectRef: String
    /// `HMAC-SHA256` of `subjectRef` under the tenant's erasure-subject key, hex: what every
    /// output and the audit log carry instead of the reference.
    public let subjectHash: String
    public let reason: String
    public let requester: String
    public let requested: String
    public let rules: [ErasureRule]
    /// The ledger version that recorded it.
    public let ledgerVersion: Int

    /// What may be shown, logged and certified: no reference, no value.
    public var redacted: RedactedErasureRequest {
        RedactedErasureRequest(
            id: id, tenant: tenant, subjectHash: subjectHash, reason: reason, requester: requester, requested: requested,
            rules: rules.map(\.redacted), ledgerVersion: ledgerVersion)
    }
}

/// An erasure request without personal data, for `erase list|show`. The reason is the DPO's
/// own text, shown as written (docs/erasure.md asks that it not name the person); it is not
/// put in the audit log.
public struct RedactedErasureRequest: Codable, Equatable, Sendable {
    public let id: String
    public let tenant: String
    public let subjectHash: String
    public let reason: String
    public let requester: String
    public let requested: String
    public let rules: [String]
    public let ledgerVersion: Int
}

/// A tenant's erasure ledger: every request in the order recorded, as one sealed object
/// (`tenants/<t>/erasure-ledger`, kind 5), versioned. Each version names the SHA-256 of the
/// sealed object of the one before, and the audit log records the version and SHA-256 of
/// each, so that an older copy put back, or the object removed, is detected.
public struct ErasureLedger: Codable, Equatable, Sendable {
    public static let formatName = "lethe-erasure-ledger-v1"

    public var format = ErasureLedger.formatName
    public var tenant: String
    public var version: Int
    /// SHA-256 hex of the sealed object of version `version - 1`; nil for version 1.
    public var previous: String?
    public var requests: [ErasureRequest]

    /// Every rule of every request, in ledger order.
    public var rules: [ErasureRule] { requests.flatMap(\.rules) }

    static func empty(_ tenant: String) -> ErasureLedger {
        ErasureLedger(tenant: tenant, version: 0, previous: nil, requests: [])
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }
}
