import Foundation
import LetheCrypto
import LetheStore

/// Why a tenant's data is destroyed.
public enum DestructionReason: String, Codable, Sendable, CaseIterable {
    /// The restore window after offboarding has passed.
    case retentionExpired = "retention-expired"
    /// The client asked for deletion.
    case clientRequest = "client-request"
    /// The contract ended and calls for deletion now.
    case contractEnd = "contract-end"

    /// The legal basis a report states for this reason.
    public var legalBasis: String {
        switch self {
        case .retentionExpired:
            return "GDPR Art. 28(3)(g): deletion of personal data after the end of the provision of services; "
                + "the agreed restore window after offboarding has ended"
        case .clientRequest:
            return "GDPR Art. 28(3)(g) and the controller's instruction to delete (Art. 28(3)(a)); "
                + "supports the controller's obligations under Art. 17"
        case .contractEnd:
            return "GDPR Art. 28(3)(g): deletion at the end of the provision of services, as the contract requires"
        }
    }
}

/// One object to be destroyed: its key, size and SHA-256.
public struct InventoryItem: Codable, Equatable, Sendable {
    public let key: String
    public let size: Int
    public let sha256: String

    public init(key: String, size: Int, sha256: String) {
        self.key = key
        self.size = size
        self.sha256 = sha256
    }
}

/// Everything under a tenant's prefix at the time of the request, with a digest over it:
/// `SHA-256` of the lines `key ␠ size ␠ sha256 \n`, sorted by key. Approvals are bound to it:
/// if the store changes, the digest changes, and the approvals no longer apply.
public struct Inventory: Codable, Equatable, Sendable {
    public let objects: [InventoryItem]
    public let objectCount: Int
    public let bytes: Int
    public let digest: String

    /// Throws an integrity error when the sizes add up to more than `Int.max`: no store holds
    /// that, but a report to verify may say so.
    public init(objects: [InventoryItem]) throws {
        var total = 0
        for object in objects {
            let (sum, overflow) = total.addingReportingOverflow(object.size)
            guard !overflow else { throw LetheError.integrity("the inventory's sizes add up to more than \(Int.max) bytes") }
            total = sum
        }
        self.objects = objects.sorted { $0.key < $1.key }
        objectCount = objects.count
        bytes = total
        digest = Hex.encode(try SHA256.hash(Array(Inventory.digestInput(self.objects).utf8)))
    }

    public static func digestInput(_ objects: [InventoryItem]) -> String {
        objects.map { "\($0.key) \($0.size) \($0.sha256)\n" }.joined()
    }

    /// Lists and hashes every object under the tenant's prefix.
    public static func take(of tenant: TenantID, in store: ObjectStore) throws -> Inventory {
        try Inventory(objects: try store.list(prefix: tenant.storePrefix).map { object in
            InventoryItem(key: object.key.rawValue, size: object.size, sha256: Hex.encode(try SHA256.hash(try store.get(object.key))))
        })
    }
}

/// Which version of the authorizer registry a request is judged by: its number and the SHA-256
/// of its document bytes, both inside the bytes the authorizers sign.
public struct RegistryReference: Codable, Equatable, Sendable {
    public var version: Int
    public var sha256: String
}

/// A destruction request: the canonical JSON document whose exact bytes the authorizers sign.
///
/// Everything a decision about it rests on is inside those bytes: the tenant, the inventory
/// (the objects, their sizes and SHA-256), the key to be revoked (its id and commitment), and
/// the approval policy, grace period and authorizer registry version in force when it was
/// made. An approval is a signature over all of it, so it cannot be carried over to another
/// tenant, another set of objects or a relaxed policy.
public struct DestructionRequest: Codable, Equatable, Sendable {
    public static let formatName = "lethe-destruction-request-v2"

    public var format: String = DestructionRequest.formatName
    public var id: String
    public var tenant: String
    public var tenantName: String
    public var reason: DestructionReason
    public var note: String?
    public var requester: String
    public var requested: String
    /// The approvals this request needs: the registry's policy when it was made.
    public var policy: ApprovalPolicy
    /// Hours between the approval that meets the policy and the earliest execution.
    public var gracePeriodHours: Int
    /// The registry version whose authorizers and roles judge the approvals.
    public var registry: RegistryReference
    /// Where the objects are.
    public var store: String
    /// Whether the store keeps old versions (`unversioned`, `enabled`, `suspended`): on a
    /// versioned bucket, execution deletes every version and delete marker, not just the
    /// objects the inventory lists.
    public var versioning: Versioning
    /// The tenant's key: which DEK will be revoked (never the key itself).
    public var dekID: String
    public var dekCommitment: String
    public var inventory: Inventory
    /// The tenant's register entry when the request was made (absent when none was set, and
    /// in requests from before registers): what the authorizers were told the data is.
    public var register: DataRegister?

    /// The bytes that are signed and stored: sorted keys, no insignificant whitespace.
    public func canonicalBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// The request in `bytes`, if they are exactly the canonical form of one.
    public static func decode(_ bytes: [UInt8]) -> DestructionRequest? {
        guard let request = try? JSONDecoder().decode(DestructionRequest.self, from: Data(bytes)),
              request.format == formatName, (try? request.canonicalBytes()) == bytes else { return nil }
        return request
    }
}
