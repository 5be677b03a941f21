import Foundation
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore

/// Tenants: adding them, finding them, saving changes to their records. The record in the
/// store is the truth; the catalog mirrors it for listings.
public struct TenantRegistry: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    /// Creates the tenant's DEK and record. Refuses an id already in use or once destroyed.
    public func add(id: TenantID, name: String?, sources: [TenantSource]) throws -> TenantRecord {
        if let problem = TenantRegistry.problem(id: id, sources: sources) { throw LetheError.usage(problem) }
        try refuseIfDestroyed(id)
        guard try !installation.store.exists(Layout.record(id)) else {
            throw LetheError.usage("tenant \(id) already exists")
        }
        let keystore = try installation.keystore()
        // A key without a record is left by an `add` that crashed in between: reuse it.
        if try keystore.keyInfo(for: id) == nil {
            try keystore.createKey(for: id)
        }
        let record = TenantRecord(
            id: id, name: name ?? id.rawValue, sources: sources, created: installation.nowText, actor: installation.actor)
        try save(record)
        try AuditTrail(installation).record("tenant.add", tenant: id, details: [
            "name": record.name, "sources": sources.map(\.description).joined(separator: " "),
        ])
        return record
    }

    /// What is wrong with registering `sources` for `id`, or nil: no source, a source that
    /// cannot be read, or two that would land at the same place in a snapshot.
    static func problem(id: TenantID, sources: [TenantSource]) -> String? {
        guard !sources.isEmpty else { return "tenant \(id) needs at least one --source" }
        for source in sources {
            if let problem = source.problem() { return "source \(source): \(problem)" }
        }
        let names = sources.compactMap(\.entryName)
        guard Set(names).count == names.count, sources.filter({ $0.entryName == nil }).count <= 1 else {
            return "two sources of tenant \(id) would land at the same place; name them with NAME=KIND:ARG"
        }
        return nil
    }

    /// The tenant's record, from the store. Unknown tenants are a usage error; destroyed ones
    /// are refused, naming their destruction report.
    public func record(_ id: TenantID) throws -> TenantRecord {
        try refuseIfDestroyed(id)
        let key = Layout.record(id)
        // One GET, not a HeadObject first: a backup reads the record several times.
        let sealed: [UInt8]
        do {
            sealed = try installation.store.get(key)
        } catch is ObjectNotFound {
            try refuseIfBeingDestroyed(id)
            if try installation.keystore().keyInfo(for: id) != nil {
                throw LetheError.integrity("\(key) is missing from the store, though the keystore holds the tenant's key")
            }
            throw LetheError.usage("unknown tenant \(id) (see `lethe tenant list`)")
        }
        let repository: Repository
        do {
            repository = try installation.repository(for: id)
        } catch KeyError.noTenantKey {
            try refuseIfBeingDestroyed(id)
            throw KeyError.keystoreLacksTenant(id, path: try installation.keystore().path)
        }
        let record = try TenantRecord.decode(
            try SealedObject.open(sealed, kind: .tenantRecord, name: id.rawValue, keys: repository.keys, key: key), key: key)
        // The store is the truth: a catalog that lost this tenant's row gets it back.
        let catalog = try installation.catalog()
        if try catalog.tenant(id) == nil { try catalog.upsert(record) }
        return record
    }

    /// Writes the record to the store (atomically), then to the catalog.
    public func save(_ record: TenantRecord) throws {
        try saveToStore(record)
        try installation.catalog().upsert(record)
    }

    /// Writes the record to the store, sealed under the tenant's key, atomically.
    func saveToStore(_ record: TenantRecord) throws {
        let (key, sealed) = try sealedRecord(record)
        try installation.store.put(key, sealed)
    }

    /// The record's object, sealed under the tenant's key, and where it is stored.
    func sealedRecord(_ record: TenantRecord) throws -> (key: ObjectKey, bytes: [UInt8]) {
        let repository = try installation.repository(for: record.id)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (Layout.record(record.id), try repository.seal(Array(try encoder.encode(record)), kind: .tenantRecord, name: record.id.rawValue))
    }

    /// Brings this host's catalog in line with the store's tenants: tenants another host added
    /// are indexed, tenants another host destroyed get their tombstone. Two listings when
    /// nothing changed.
    public func syncFromStore() throws {
        let catalog = try installation.catalog()
        let known = Set(try catalog.tenants().map(\.id.rawValue))
        for name in try installation.store.children(of: ObjectKey("tenants")) where !known.contains(name) {
            guard let id = try? TenantID(name), try catalog.tombstone(id) == nil else { continue }
            // A tenant whose record is damaged is still this host's to verify: keep going.
            _ = try? record(id)
        }
        let reports = ReportStore(store: installation.store)
        let listed = Set(try catalog.reports().map(\.id))
        for id in try reports.ids() where !listed.contains(id) {
            guard let (tenant, finished) = try reports.destroyedTenant(id) else { continue }
            try catalog.addTombstone(Catalog.Tombstone(tenant: tenant, report: id, destroyedAt: finished))
            if let stored = try? reports.load(id) {
                try catalog.addReport(Catalog.ReportRow(
                    id: id, tenant: tenant.rawValue, request: stored.report.request.id, finished: finished,
                    sha256: Hex.encode(try SHA256.hash(stored.json))))
            }
            try catalog.purge(tenant)
        }
    }

    /// Every tenant the installation has, whatever this host's catalog says: those of the
    /// catalog, of the store (`tenants/`) and of the keystore. A tenant the catalog lost, or
    /// whose record is gone from the store, is still in this list, so that verification finds
    /// it rather than skipping it.
    public func everyTenant() throws -> [TenantID] {
        try syncFromStore()
        var ids = Set(try list().map(\.id))
        for name in try installation.store.children(of: ObjectKey("tenants")) {
            if let id = try? TenantID(name), try installation.catalog().tombstone(id) == nil { ids.insert(id) }
        }
        for id in try installation.keystore().tenants() where try installation.catalog().tombstone(id) == nil { ids.insert(id) }
        return ids.sorted()
    }

    /// Every tenant with a record, from the catalog.
    public func list() throws -> [TenantRecord] {
        try installation.catalog().tenants()
    }

    /// Mid-destruction, the key is revoked and the record deleted before the tombstone is
    /// written: a tenant in that state is refused as being destroyed, not reported as unknown.
    private func refuseIfBeingDestroyed(_ id: TenantID) throws {
        if let open = try? DestructionRequests(installation).open(for: id), open.status == .executing {
            throw LetheError.refused("tenant \(id) is being destroyed (request \(open.id)); `lethe destroy execute \(open.id)` finishes it")
        }
    }

    /// Throws `refused` naming the report if the tenant was destroyed.
    public func refuseIfDestroyed(_ id: TenantID) throws {
        if let tombstone = try installation.catalog().tombstone(id) {
            throw LetheError.refused(
                "tenant \(id) was destroyed on \(tombstone.destroyedAt); see destruction report \(tombstone.report) (`lethe report show \(tombstone.report)`)")
        }
    }
}
