import Foundation
import LetheCrypto
import LetheStore

/// The record of processing activities: each tenant's `DataRegister`, edited through the
/// sealed tenant record (so every change is authenticated by the tenant's key and logged), and
/// exported across tenants one row per tenant and purpose. Everything is read from the store's
/// sealed records, never from the catalog, which H could edit.
public struct TenantRegister: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    /// Where the tenants' data is, from the store's configuration: the bucket and endpoint of
    /// an S3 store, or the local directory.
    public var storageLocation: String {
        if let s3 = installation.configuration.s3 {
            return "s3://\(s3.bucket)/\(s3.prefix) at \(s3.endpoint) (region \(s3.region))"
        }
        return installation.store.location
    }

    /// What `tenant register show` prints: the entry (nil when none was set) and where the
    /// data is.
    public struct View: Codable, Sendable {
        public var tenant: String
        public var name: String
        public var register: DataRegister?
        public var storageLocation: String
    }

    public func view(_ id: TenantID) throws -> View {
        let record = try TenantRegistry(installation).record(id)
        return View(tenant: id.rawValue, name: record.name, register: record.register, storageLocation: storageLocation)
    }

    /// Replaces the fields `fields` gives, saves the sealed record, and logs the change with
    /// the SHA-256 of the new entry. Setting what is already there changes and logs nothing.
    public func set(_ id: TenantID, _ fields: DataRegister.Fields) throws -> View {
        guard !fields.isEmpty else { throw LetheError.usage("nothing to set: give at least one register option (see `lethe tenant register set --help`)") }
        let registry = TenantRegistry(installation)
        var record = try registry.record(id)
        try Lifecycle(installation).requireNoOpenDestruction(id, doing: "change the register of")
        let register = try fields.applied(to: record.register, time: installation.nowText, actor: installation.actor)
        if let old = record.register, old.sameContent(as: register) { return try view(id) }
        record.register = register
        record.events.append(LifecycleEvent(time: register.updated, event: "register", detail: TenantRegister.summary(register), actor: installation.actor))
        try registry.save(record)
        try AuditTrail(installation).record("tenant.register", tenant: id, details: try TenantRegister.auditDetails(register))
        return View(tenant: id.rawValue, name: record.name, register: register, storageLocation: storageLocation)
    }

    /// What the audit log keeps of an entry: its SHA-256 and its content, so the log alone
    /// shows what the register said at any time.
    static func auditDetails(_ register: DataRegister) throws -> [String: String] {
        var details = [
            "sha256": Hex.encode(try SHA256.hash(try register.canonicalBytes())),
            "dataCategories": register.dataCategories.joined(separator: "; "),
            "subjectCategories": register.subjectCategories.joined(separator: "; "),
            "purposes": register.purposes.joined(separator: "; "),
            "subProcessors": register.subProcessors.joined(separator: "; "),
        ]
        details["retentionBasis"] = register.retentionBasis
        return details
    }

    static func summary(_ register: DataRegister) -> String {
        "\(register.purposes.count) purposes, categories " + (register.dataCategories.isEmpty ? "none" : register.dataCategories.joined(separator: ", "))
    }

    /// One row of the export: one tenant and one purpose (a tenant without purposes, or without
    /// a register, has one row with an empty purpose, so it is not missing from the record).
    public struct Row: Codable, Sendable, Equatable {
        public var tenant: String
        public var name: String
        public var state: String
        public var purpose: String
        public var dataCategories: [String]
        public var specialCategories: Bool
        public var subjectCategories: [String]
        public var retentionBasis: String
        public var subProcessors: [String]
        public var storageLocation: String
        public var updated: String

        public static let csvHeader = [
            "tenant", "name", "state", "purpose", "data_categories", "special_categories", "subject_categories",
            "retention_basis", "sub_processors", "storage_location", "updated",
        ]

        public var csvFields: [String] {
            [tenant, name, state, purpose, dataCategories.joined(separator: "; "), specialCategories ? "yes" : "no",
             subjectCategories.joined(separator: "; "), retentionBasis, subProcessors.joined(separator: "; "), storageLocation, updated]
        }
    }

    /// Every tenant's entry, from its sealed record, one row per purpose.
    public func export() throws -> [Row] {
        let registry = TenantRegistry(installation)
        var rows: [Row] = []
        // Every tenant the store and the keystore know, not the catalog's list, which H can edit.
        for id in try registry.everyTenant() {
            let record = try registry.record(id)
            let register = record.register
            for purpose in (register?.purposes.isEmpty ?? true) ? [""] : register!.purposes {
                rows.append(Row(
                    tenant: id.rawValue, name: record.name, state: record.state.rawValue, purpose: purpose,
                    dataCategories: register?.dataCategories ?? [], specialCategories: register?.holdsSpecialCategories ?? false,
                    subjectCategories: register?.subjectCategories ?? [], retentionBasis: register?.retentionBasis ?? "",
                    subProcessors: register?.subProcessors ?? [], storageLocation: storageLocation, updated: register?.updated ?? ""))
            }
        }
        return rows
    }

    /// RFC 4180 CSV: a header line, CRLF line ends, fields quoted when they hold a comma, a
    /// quote or a line break, and quotes doubled. A field starting with `=`, `+`, `-` or `@` is
    /// prefixed with `'`, so a spreadsheet opening the export runs no formula from a register.
    public static func csv(_ rows: [Row]) -> String {
        func cell(_ value: String) -> String {
            var value = value
            if let first = value.first, "=+-@".contains(first) { value = "'" + value }
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return value }
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return ([Row.csvHeader] + rows.map(\.csvFields)).map { $0.map(cell).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}
