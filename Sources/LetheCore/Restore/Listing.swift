import LetheRepository
import LetheStore

/// `lethe ls`: the entries of a directory in a snapshot, from the catalog's file listings,
/// or from the store when the catalog lacks them. Entries the tenant's erasure ledger leaves
/// out of restores are left out of listings too, before a purge removes them: a listing names
/// the person's own files (`mail/alice@example.com/`).
public struct Listing: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Encodable, Sendable {
        public let tenant: String
        public let snapshot: String
        public let path: String
        public let entries: [Catalog.EntryRow]
    }

    public func list(snapshot row: Catalog.SnapshotRow, path: String?) throws -> Result {
        let tenant = try TenantID(row.tenant)
        try TenantRegistry(installation).refuseIfDestroyed(tenant)
        let filter = try ErasureLedgers(installation).filter(for: tenant, repository: try installation.repository(for: tenant))
        var tree = try row.treeID()
        let components = (path ?? "").split(separator: "/").map(String.init).filter { $0 != "." }
        func visible(_ entries: [Catalog.EntryRow], in directory: String) -> [Catalog.EntryRow] {
            entries.filter { !filter.erases(directory + $0.name) }
        }
        var entries = visible(try entriesOf(tree, tenant: tenant), in: "")
        for (position, component) in components.enumerated() {
            let shown = components[0...position].joined(separator: "/")
            guard let entry = entries.first(where: { $0.name.utf8.elementsEqual(component.utf8) }) else {
                throw LetheError.usage("\(shown) is not in snapshot \(row.id.prefix(8))")
            }
            guard entry.kind == "directory", let subtree = entry.subtree.flatMap(BlobID.init(hex:)) else {
                return Result(tenant: row.tenant, snapshot: row.id, path: shown, entries: [entry])
            }
            tree = subtree
            entries = visible(try entriesOf(tree, tenant: tenant), in: shown + "/")
        }
        return Result(tenant: row.tenant, snapshot: row.id, path: components.joined(separator: "/"), entries: entries)
    }

    private func entriesOf(_ tree: BlobID, tenant: TenantID) throws -> [Catalog.EntryRow] {
        if let rows = try installation.catalog().entries(tenant: tenant, tree: tree) { return rows }
        let repository = try installation.repository(for: tenant)
        try repository.loadIndex()
        return try repository.loadTree(tree).nodes.map { node in
            Catalog.EntryRow(
                name: node.name, kind: "\(node.kind)", size: node.size, mode: Int(node.mode), mtime: Int(node.modified.seconds),
                subtree: node.subtree?.hex, target: node.target)
        }
    }
}
