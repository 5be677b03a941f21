import LetheRepository
import LetheStore

/// `lethe ls`: the entries of a directory in a snapshot, from the catalog's file listings,
/// or from the store when the catalog lacks them.
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
        var tree = try row.treeID()
        let components = (path ?? "").split(separator: "/").map(String.init).filter { $0 != "." }
        var entries = try entriesOf(tree, tenant: tenant)
        for (position, component) in components.enumerated() {
            let shown = components[0...position].joined(separator: "/")
            guard let entry = entries.first(where: { $0.name.utf8.elementsEqual(component.utf8) }) else {
                throw LetheError.usage("\(shown) is not in snapshot \(row.id.prefix(8))")
            }
            guard entry.kind == "directory", let subtree = entry.subtree.flatMap(BlobID.init(hex:)) else {
                return Result(tenant: row.tenant, snapshot: row.id, path: shown, entries: [entry])
            }
            tree = subtree
            entries = try entriesOf(tree, tenant: tenant)
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
