import Foundation

/// One operation in the audit log: who did what to which tenant, when. Stored as canonical
/// JSON (sorted keys, no whitespace); the stored bytes are the Merkle leaf.
public struct AuditEntry: Codable, Equatable, Sendable {
    public var index: Int
    public var time: String
    public var actor: String
    public var operation: String
    public var tenant: String?
    public var details: [String: String]

    public init(index: Int, time: String, actor: String, operation: String, tenant: String?, details: [String: String]) {
        self.index = index
        self.time = time
        self.actor = actor
        self.operation = operation
        self.tenant = tenant
        self.details = details
    }

    public func canonicalBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
