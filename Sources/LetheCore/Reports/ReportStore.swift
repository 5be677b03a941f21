import Foundation
import LetheCrypto
import LetheStore

/// Destruction reports in the object store, `reports/<id>.json` (the signed bytes),
/// `reports/<id>.sig` (raw Ed25519 signature) and `reports/<id>.html` (printable rendering).
/// They live outside every tenant's prefix and survive the loss of the catalog.
public struct ReportStore: Sendable {
    let store: ObjectStore
    static let prefix = try! ObjectKey("reports")

    public init(store: ObjectStore) {
        self.store = store
    }

    static func jsonKey(_ id: String) throws -> ObjectKey { try prefix.appending("\(id).json") }
    static func signatureKey(_ id: String) throws -> ObjectKey { try prefix.appending("\(id).sig") }
    static func htmlKey(_ id: String) throws -> ObjectKey { try prefix.appending("\(id).html") }

    /// Stores the three files; the signature and rendering first, the JSON last, so a listed
    /// report always has its signature.
    func save(_ id: String, json: [UInt8], signature: [UInt8], html: String) throws {
        try store.put(ReportStore.signatureKey(id), signature)
        try store.put(ReportStore.htmlKey(id), Array(html.utf8))
        try store.put(ReportStore.jsonKey(id), json)
    }

    public func ids() throws -> [String] {
        try store.children(of: ReportStore.prefix).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    public struct Stored: Sendable {
        public let id: String
        public let json: [UInt8]
        public let signature: [UInt8]
        public let report: DestructionReport
    }

    public func load(_ id: String) throws -> Stored {
        guard (try? ObjectKey("reports/\(id).json")) != nil, let json = try? store.get(ReportStore.jsonKey(id)) else {
            throw LetheError.usage("unknown report \(id) (see `lethe report list`)")
        }
        let signature = (try? store.get(ReportStore.signatureKey(id))) ?? []
        guard let report = try? JSONDecoder().decode(DestructionReport.self, from: Data(json)) else {
            throw LetheError.integrity("reports/\(id).json is not a destruction report")
        }
        return Stored(id: id, json: json, signature: signature, report: report)
    }

    /// The tenant and time a report names, read from its JSON whatever its format version,
    /// or nil if it names none.
    func destroyedTenant(_ id: String) throws -> (TenantID, finished: String)? {
        guard let json = try? store.get(ReportStore.jsonKey(id)),
              let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let tenant = (object["tenant"] as? [String: Any])?["id"] as? String, let id = try? TenantID(tenant) else { return nil }
        return (id, (object["finished"] as? String) ?? "")
    }

    /// The problems with the reports the audit log says were issued: missing from the store,
    /// or not the bytes it logged. A report is evidence; losing one is an integrity violation.
    public func problems(against history: AuditHistory) -> [String] {
        var problems: [String] = []
        for entry in history.entries where entry.operation == "report.issued" {
            guard let id = entry.details["report"], let key = try? ReportStore.jsonKey(id) else { continue }
            guard let json = try? store.get(key) else {
                problems.append("\(key): missing, though the audit log recorded its issue (entry \(entry.index))")
                continue
            }
            if let logged = entry.details["sha256"], (try? SHA256.hash(json)).map(Hex.encode) != logged {
                problems.append("\(key): not the report the audit log recorded at entry \(entry.index) (replaced)")
            }
        }
        return problems
    }

    /// `load`, except that a report this installation knows it issued (the catalog lists it)
    /// but the store lacks is an integrity violation, not an unknown report.
    public func load(_ id: String, knownTo catalog: Catalog) throws -> Stored {
        do {
            return try load(id)
        } catch let error as LetheError where error.kind == .usage {
            guard try catalog.reports().contains(where: { $0.id == id }) else { throw error }
            throw LetheError.integrity("reports/\(id).json is missing from the store, though this installation issued it")
        }
    }

    /// The printable page of a report, rendered from its signed JSON after checking the
    /// signature: the stored `.html` is a convenience nothing signs, and is never handed on.
    public func verifiedRendering(_ stored: Stored, publicKey: Ed25519.PublicKey) throws -> String {
        guard publicKey.isValidSignature(stored.signature, for: stored.json) else {
            throw LetheError.integrity("reports/\(stored.id).json does not carry this service's signature")
        }
        return ReportRenderer.html(stored.report)
    }
}
