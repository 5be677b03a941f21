import LetheStore

/// Deduplicates and packs the blobs of one backup (or one repack), then commits them in the
/// crash-safe order: finished packs first, then one index file naming them.
///
/// Until `commit()` returns, nothing written here is referenced: a crash leaves only packs
/// that no index lists, which the next backup ignores and `prune` removes.
///
/// Trees and file content go into packs of their own, as restic does: the next backup walks
/// every tree of its parent, and a restore every tree of its snapshot, and with the trees side
/// by side `Repository.loadTree` reads them with one ranged read per pack (`TreeRuns`) where
/// trees scattered between file chunks took a request each on a bucket.
final class BlobWriter {
    static let packTargetSize = 16 << 20

    private let repository: Repository
    /// The pack being filled, one per blob type.
    private var packs: [BlobType: PackWriter] = [:]
    private var written = IndexContents()
    /// Blobs added in this session, found before their index is written.
    private var pending: [BlobID: BlobLocation] = [:]
    private(set) var bytesAdded = 0
    private(set) var bytesStored = 0
    private(set) var blobsAdded = 0
    private(set) var packsWritten = 0

    private let deduplicateAgainstIndex: Bool

    /// `deduplicateAgainstIndex: false` is for repacking, where the blobs being copied are in
    /// the index already (at the locations about to be deleted).
    init(repository: Repository, deduplicateAgainstIndex: Bool = true) {
        self.repository = repository
        self.deduplicateAgainstIndex = deduplicateAgainstIndex
    }

    func contains(_ id: BlobID) -> Bool {
        pending[id] != nil || (deduplicateAgainstIndex && repository.index.contains(id))
    }

    /// Packs finished so far and not yet committed to an index.
    var writtenPacks: [IndexContents.PackRecord] { written.packs }

    /// Stores `plaintext` as a blob unless the repository already has it; returns its id.
    @discardableResult
    func save(_ plaintext: UnsafeRawBufferPointer, type: BlobType) throws -> BlobID {
        let id = try repository.keys.blobID(for: plaintext)
        try save(plaintext, id: id, type: type)
        return id
    }

    /// Stores `plaintext`, whose id is already known, unless the repository has it.
    func save(_ plaintext: UnsafeRawBufferPointer, id: BlobID, type: BlobType) throws {
        guard !contains(id) else { return }
        let pack = try packs[type] ?? PackWriter(keys: repository.keys, store: repository.store)
        packs[type] = pack
        let entry: PackEntry
        do {
            entry = try pack.add(plaintext, id: id, type: type, compression: repository.compression)
        } catch {
            packs[type] = nil  // its writer is aborted; nothing of it becomes visible
            throw error
        }
        pending[id] = entry.location
        bytesAdded += plaintext.count
        blobsAdded += 1
        if pack.size >= BlobWriter.packTargetSize {
            try flush(type)
        }
    }

    /// Finishes and stores the packs being filled, if any.
    func flushPacks() throws {
        for type in [BlobType.data, .tree] { try flush(type) }
    }

    private func flush(_ type: BlobType) throws {
        guard let current = packs.removeValue(forKey: type) else { return }
        let size = try current.finish()
        written.packs.append(IndexContents.PackRecord(id: current.id, size: size, entries: current.entries))
        bytesStored += size
        packsWritten += 1
        FaultPoint.reach("backup.pack-written")
    }

    /// Flushes the last pack and writes the index file for everything written; returns what
    /// the index holds (empty when nothing was new).
    @discardableResult
    func commit() throws -> (IndexID?, IndexContents) {
        try flushPacks()
        guard !written.packs.isEmpty else { return (nil, written) }
        let (id, size) = try repository.writeIndex(written)
        bytesStored += size
        FaultPoint.reach("backup.index-written")
        let committed = written
        written = IndexContents()
        pending = [:]
        return (id, committed)
    }
}
