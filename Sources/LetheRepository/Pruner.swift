import LetheStore

/// Deletes what no snapshot references and repacks packs that are mostly garbage, without ever
/// deleting data a remaining snapshot needs, even if killed at any moment.
///
/// Order: (1) copy the still-used blobs of packs to repack into new packs; (2) write one new
/// index file that lists every used blob at a location that survives; (3) delete the old
/// index files; (4) delete the packs nothing lists any more. Until (2) completes the old index
/// describes a complete repository; after it the new one does; packs are deleted only once no
/// index names them. The caller holds the tenant's exclusive lock.
public final class Pruner {
    public struct Result: Codable, Sendable, Equatable {
        public var snapshots = 0
        public var blobsUsed = 0
        public var packs = 0
        public var packsUnused = 0
        public var packsRepacked = 0
        public var packsUnindexed = 0
        public var blobsRepacked = 0
        public var bytesBefore = 0
        public var bytesFreed = 0
        public var indexFilesReplaced = 0
        public var dryRun = false
    }

    private let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// `maxUnusedPercent`: a pack whose unused share exceeds this is repacked (0 repacks every
    /// pack with any unused byte).
    public func run(maxUnusedPercent: Int, dryRun: Bool) throws -> Result {
        let tenant = repository.tenant
        var result = Result()
        result.dryRun = dryRun
        try repository.loadIndex()
        let index = repository.index

        // Everything the snapshots reference; any gap stops the prune before it deletes.
        var used = Set<BlobID>()
        for id in try repository.snapshotIDs() {
            result.snapshots += 1
            try mark(try repository.loadSnapshot(id).treeID!, used: &used)
        }
        result.blobsUsed = used.count

        // Every index file's entries, per pack.
        var entries: [PackID: [PackEntry]] = [:]
        let indexFiles = index.files.sorted()
        for file in indexFiles {
            for pack in try repository.readIndex(file).packs {
                entries[pack.id, default: []] += pack.entries
            }
        }
        let stored = Dictionary(
            try repository.store.list(below: Layout.dataPrefix(tenant)).compactMap { object -> (PackID, Int)? in
                if case .pack(let id) = Layout.classify(object.key, tenant: tenant) { return (id, object.size) }
                return nil
            }, uniquingKeysWith: { first, _ in first })

        var keep: [IndexContents.PackRecord] = []
        var repack: [(PackID, [PackEntry])] = []
        var delete: [PackID] = []
        for (pack, size) in index.packs.sorted(by: { $0.key < $1.key }) {
            result.packs += 1
            result.bytesBefore += size
            // A blob counts as used in the one pack the index resolves it to; copies elsewhere are garbage.
            let all = entries[pack] ?? []
            let live = all.filter { used.contains($0.id) && index.location(of: $0.id)?.pack == pack }
            // Blob bytes only: the header, preamble and length a repacked pack would carry as well do not count.
            let blobBytes = Set(all).reduce(0) { $0 + $1.location.sealedLength }
            let unusedBytes = blobBytes - live.reduce(0) { $0 + $1.location.sealedLength }
            if live.isEmpty {
                result.packsUnused += 1
                delete.append(pack)
            } else if unusedBytes > 0, unusedBytes * 100 > maxUnusedPercent * blobBytes {
                result.packsRepacked += 1
                result.blobsRepacked += live.count
                repack.append((pack, live))
                delete.append(pack)
            } else {
                keep.append(IndexContents.PackRecord(id: pack, size: size, entries: live))
            }
        }
        for (pack, size) in stored where index.packs[pack] == nil {
            result.packsUnindexed += 1
            result.bytesBefore += size
            delete.append(pack)
        }
        result.bytesFreed = delete.reduce(0) { $0 + (stored[$1] ?? index.packs[$1] ?? 0) }
        guard !dryRun, !delete.isEmpty else { return result }

        // (1) Copy live blobs out of the packs being repacked.
        let writer = BlobWriter(repository: repository, deduplicateAgainstIndex: false)
        for (pack, live) in repack {
            let bytes = try repository.store.get(Layout.pack(tenant, pack))
            let key = try repository.packKey(pack)
            for entry in live.sorted(by: { $0.location.offset < $1.location.offset }) {
                let range = entry.location.offset..<(entry.location.offset + entry.location.sealedLength)
                guard range.upperBound <= bytes.count else {
                    throw IntegrityViolation(object: Layout.pack(tenant, pack), problem: "is truncated; prune stopped before deleting anything")
                }
                let plaintext = try bytes.withUnsafeBytes {
                    try repository.openBlob(UnsafeRawBufferPointer(rebasing: $0[range]), id: entry.id, location: entry.location, packKey: key)
                }
                try plaintext.withUnsafeBytes { try writer.save($0, id: entry.id, type: entry.location.type) }
            }
        }
        try writer.flushPacks()
        FaultPoint.reach("prune.packs-written")
        result.bytesFreed -= writer.bytesStored

        // (2) One index for everything that stays.
        let replacement = IndexContents(packs: keep + writer.writtenPacks)
        let (newFile, _) = try repository.writeIndex(replacement)
        FaultPoint.reach("prune.index-written")

        // (3) Retire the old index files.
        for file in indexFiles where file != newFile {
            try repository.store.delete(Layout.index(tenant, file))
            result.indexFilesReplaced += 1
            FaultPoint.reach("prune.index-deleted")
        }

        // (4) Delete packs no index names any more.
        for pack in delete {
            try repository.store.delete(Layout.pack(tenant, pack))
            FaultPoint.reach("prune.pack-deleted")
        }
        try repository.loadIndex()
        return result
    }

    private func mark(_ tree: BlobID, used: inout Set<BlobID>) throws {
        guard used.insert(tree).inserted else { return }
        guard repository.index.contains(tree) else {
            throw IntegrityViolation(object: repository.tenant.storePrefix, problem: "tree \(tree.short) is in no index; prune stopped (run `lethe verify`)")
        }
        for node in try repository.loadTree(tree).nodes {
            switch node.kind {
            case .directory:
                if let subtree = node.subtree { try mark(subtree, used: &used) }
            case .file:
                for blob in node.content {
                    guard repository.index.contains(blob) else {
                        throw IntegrityViolation(object: repository.tenant.storePrefix, problem: "data blob \(blob.short) is in no index; prune stopped (run `lethe verify`)")
                    }
                    used.insert(blob)
                }
            case .symlink:
                break
            }
        }
    }
}
