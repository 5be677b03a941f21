import LetheStore

/// Where each object of a tenant's repository lives in the store.
///
///     tenants/<t>/tenant                     the tenant's record (sealed)
///     tenants/<t>/erasure-ledger             the tenant's erasure ledger (sealed)
///     tenants/<t>/data/<xx>/<pack id>        packs, spread over 256 folders by first byte
///     tenants/<t>/index/<index id>           index files (sealed)
///     tenants/<t>/snapshots/<snapshot id>    snapshots (sealed)
///     locks/<t>/<lock id>                    locks (sealed); outside the tenant's prefix, so
///                                            that a lock never changes a destruction inventory
public enum Layout {
    public static func record(_ tenant: TenantID) -> ObjectKey {
        try! tenant.storePrefix.appending("tenant")
    }

    public static func erasureLedger(_ tenant: TenantID) -> ObjectKey {
        try! tenant.storePrefix.appending("erasure-ledger")
    }

    public static func dataPrefix(_ tenant: TenantID) -> ObjectKey {
        try! tenant.storePrefix.appending("data")
    }

    public static func pack(_ tenant: TenantID, _ id: PackID) -> ObjectKey {
        let byte = String(id.firstByte, radix: 16)
        return try! ObjectKey("\(tenant.storePrefix)/data/\(byte.count == 1 ? "0" + byte : byte)/\(id.hex)")
    }

    public static func indexPrefix(_ tenant: TenantID) -> ObjectKey {
        try! tenant.storePrefix.appending("index")
    }

    public static func index(_ tenant: TenantID, _ id: IndexID) -> ObjectKey {
        try! indexPrefix(tenant).appending(id.hex)
    }

    public static func snapshotPrefix(_ tenant: TenantID) -> ObjectKey {
        try! tenant.storePrefix.appending("snapshots")
    }

    public static func snapshot(_ tenant: TenantID, _ id: SnapshotID) -> ObjectKey {
        try! snapshotPrefix(tenant).appending(id.hex)
    }

    public static func lockPrefix(_ tenant: TenantID) -> ObjectKey {
        try! ObjectKey("locks/\(tenant.rawValue)")
    }

    /// What an object key of the tenant's repository is, for verification and inventories.
    public enum Entry: Equatable {
        case record
        case erasureLedger
        case pack(PackID)
        case index(IndexID)
        case snapshot(SnapshotID)
        case unknown
    }

    public static func classify(_ key: ObjectKey, tenant: TenantID) -> Entry {
        let parts = key.rawValue.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "tenants", parts[1] == tenant.rawValue else { return .unknown }
        switch (parts.count, parts[2]) {
        case (3, "tenant"):
            return .record
        case (3, "erasure-ledger"):
            return .erasureLedger
        case (5, "data"):
            guard let id = PackID(hex: parts[4]), pack(tenant, id) == key else { return .unknown }
            return .pack(id)
        case (4, "index"):
            return IndexID(hex: parts[3]).map { .index($0) } ?? .unknown
        case (4, "snapshots"):
            return SnapshotID(hex: parts[3]).map { .snapshot($0) } ?? .unknown
        default:
            return .unknown
        }
    }
}
