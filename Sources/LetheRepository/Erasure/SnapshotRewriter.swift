import Foundation
import LetheStore

/// Rewrites a snapshot with an erasure ledger applied, for a purge: erased paths are dropped,
/// files the rules change get new content blobs, and every tree above a change is written
/// anew. Everything else stays as it was: the snapshot's time, host, sources and parent, each
/// unchanged node with its metadata and blobs, each unchanged subtree by its id. A changed
/// file keeps its name, mode, owner and times; only its content and size change.
///
/// The new snapshot's id is derived from the original's and the purge's, with the tenant's
/// blob-id key, so that a purge resumed after a crash finds the rewrite it already stored
/// rather than making a second one.
public final class SnapshotRewriter {
    public struct Outcome: Sendable {
        /// The rewritten snapshot, or nil when the ledger changes nothing in it.
        public let snapshot: Snapshot?
        /// Blobs that the original referenced for erased or changed content.
        public let replacedBlobs: Set<BlobID>
        /// Files whose content changed, and entries dropped.
        public let filesChanged: Int
        public let entriesDropped: Int
    }

    private let repository: Repository
    private let filter: ErasureFilter
    private var writer: BlobWriter
    private var replaced = Set<BlobID>()
    private var filesChanged = 0
    private var entriesDropped = 0
    /// The other names of hard-linked files the ledger erases or filters, in the snapshot
    /// being rewritten.
    private var hardLinks: HardLinkErasure?

    public init(repository: Repository, filter: ErasureFilter) {
        self.repository = repository
        self.filter = filter
        writer = BlobWriter(repository: repository)
    }

    /// The id a rewrite of `original` by purge `purge` gets.
    public static func rewrittenID(of original: SnapshotID, purge: String, keys: TenantKeys) throws -> SnapshotID {
        let id = try keys.blobID(for: Array("lethe/v1/erasure-rewrite\u{0}\(purge)\u{0}\(original.hex)".utf8))
        return SnapshotID(hex: id.hex)!
    }

    /// Rewrites `snapshot`; new blobs are committed (packs, then one index file) before this
    /// returns, so the snapshot the caller saves references only stored data.
    public func rewrite(_ snapshot: Snapshot) throws -> Outcome {
        try repository.loadIndex()
        guard let root = snapshot.treeID else { throw LetheError.integrity("snapshot has no root tree") }
        hardLinks = try HardLinkErasure(filter: filter, root: root, repository: repository)
        let (tree, changed) = try rewrite(tree: root, path: "")
        guard changed else {
            return Outcome(snapshot: nil, replacedBlobs: [], filesChanged: 0, entriesDropped: 0)
        }
        _ = try writer.commit()
        var rewritten = snapshot
        rewritten.tree = tree.hex
        return Outcome(snapshot: rewritten, replacedBlobs: replaced, filesChanged: filesChanged, entriesDropped: entriesDropped)
    }

    private func rewrite(tree id: BlobID, path: String) throws -> (BlobID, Bool) {
        var tree = try repository.loadTree(id)
        var changed = false
        var nodes: [Node] = []
        for var node in tree.nodes {
            let nodePath = path.isEmpty ? node.name : "\(path)/\(node.name)"
            // A log beside a database the rules change fails the purge (it would keep the rows);
            // its -shm cache is dropped.
            if try filter.erases(nodePath) || hardLinks?.erases(node) == true || SQLiteSidecar.leavesOut(nodePath, node: node, filter: filter) {
                try collect(node)
                entriesDropped += 1
                changed = true
                continue
            }
            switch node.kind {
            case .directory:
                guard let subtree = node.subtree else { throw LetheError.integrity("directory \(nodePath) has no tree") }
                let (rewritten, subtreeChanged) = try rewrite(tree: subtree, path: nodePath)
                if subtreeChanged {
                    replaced.insert(subtree)
                    node.subtree = rewritten
                    changed = true
                }
            case .file:
                let own = filter.contentRules(for: nodePath)
                let rules = hardLinks?.rules(for: node, own: own) ?? own
                guard !rules.isEmpty else { break }
                var content: [UInt8] = []
                content.reserveCapacity(node.size)
                try repository.readContent(of: node, path: nodePath) { content += $0 }
                let (erased, rowsChanged) = try ErasureFilter.apply(rules, to: content, path: nodePath)
                // A database is rewritten when it loses rows, or when it has free pages, which
                // may hold rows deleted before the backup; `VACUUM` alone changes its header
                // counters, which is no reason to rewrite it.
                let isDatabase = rules.contains { if case .sql = $0.rule { return true } else { return false } }
                guard isDatabase ? rowsChanged > 0 || SnapshotRewriter.freePages(content) > 0 : erased != content else { break }
                replaced.formUnion(node.content)
                node.content = try store(erased)
                node.size = erased.count
                filesChanged += 1
                changed = true
            case .symlink:
                break
            }
            nodes.append(node)
        }
        guard changed else { return (id, false) }
        tree.nodes = nodes
        let bytes = tree.encoded()
        let newID = try repository.keys.blobID(for: bytes)
        try bytes.withUnsafeBytes { try writer.save($0, id: newID, type: .tree) }
        return (newID, true)
    }

    /// The free-list page count of a SQLite database file (header offset 36, big-endian).
    static func freePages(_ database: [UInt8]) -> Int {
        guard database.count >= 40 else { return 0 }
        return database[36..<40].reduce(0) { $0 << 8 | Int($1) }
    }

    /// Cuts `content` into chunks as a backup would, and stores each as a data blob.
    private func store(_ content: [UInt8]) throws -> [BlobID] {
        var ids: [BlobID] = []
        try content.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                let length = max(1, repository.chunker.cut(rest))
                ids.append(try writer.save(UnsafeRawBufferPointer(rebasing: rest[..<length]), type: .data))
                offset += length
            }
        }
        return ids
    }

    /// Every blob below an erased node: its content, or its trees and what they hold.
    private func collect(_ node: Node) throws {
        replaced.formUnion(node.content)
        guard node.kind == .directory, let subtree = node.subtree else { return }
        replaced.insert(subtree)
        for child in try repository.loadTree(subtree).nodes { try collect(child) }
    }
}
