import LetheRepository
import LetheStore

extension Catalog.SnapshotRow {
    /// The row's snapshot id, or an integrity error if the catalog holds something else.
    public func snapshotID() throws -> SnapshotID {
        guard let id = SnapshotID(hex: id) else { throw LetheError.integrity("catalog row for snapshot \"\(id)\" is damaged; run `lethe index rebuild`") }
        return id
    }

    public func treeID() throws -> BlobID {
        guard let id = BlobID(hex: tree) else { throw LetheError.integrity("catalog row for snapshot \(self.id) is damaged; run `lethe index rebuild`") }
        return id
    }
}

/// Finds the snapshot a user means: `latest`, or a unique prefix of its id.
public struct SnapshotSelector: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    /// The tenant's snapshot named by `spec` (nil or `latest` for the newest).
    public func select(_ spec: String?, tenant: TenantID) throws -> Catalog.SnapshotRow {
        let catalog = try installation.catalog()
        if spec == nil || spec == "latest" {
            guard let latest = try catalog.snapshots(of: tenant).last else {
                throw LetheError.usage("tenant \(tenant) has no snapshots")
            }
            return latest
        }
        return try unique(try catalog.snapshots(matching: spec!, tenant: tenant), spec: spec!)
    }

    /// The snapshot of any tenant whose id starts with `spec`.
    public func select(anyTenant spec: String) throws -> Catalog.SnapshotRow {
        try unique(try installation.catalog().snapshots(matching: spec, tenant: nil), spec: spec)
    }

    private func unique(_ rows: [Catalog.SnapshotRow], spec: String) throws -> Catalog.SnapshotRow {
        guard spec.count >= 4, spec.allSatisfy(\.isHexDigit) else {
            throw LetheError.usage("\"\(spec)\" is not a snapshot id (give `latest` or at least 4 hex digits)")
        }
        guard let row = rows.first else { throw LetheError.usage("no snapshot \(spec)") }
        guard rows.count == 1 else { throw LetheError.usage("snapshot id \(spec) is ambiguous; give more digits") }
        return row
    }
}
