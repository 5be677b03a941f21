import Foundation
import LetheCrypto
import LetheStore

/// The audit log's Merkle tree of a given size, read from its C2SP tiles.
///
/// Any node of a complete subtree is a hash in one tile (or the root of at most 128 hashes of
/// one tile), so a root, a frontier or an RFC 9162 proof costs O(log n) tile reads rather than
/// a pass over the entries. Tiles are read from the store, or, for a log still in the layout
/// before tiles, from tiles computed in memory from its entries (`LegacyAuditLayout`).
///
/// Nothing read here is trusted by itself: `root()` is compared with a signed checkpoint, a
/// proof is verified against the signed root before it is handed out, and entries are hashed
/// again whenever they are read.
final class TiledTree: @unchecked Sendable {
    let size: Int
    private let backing: Backing
    /// Tiles read so far; an `AuditHistory` shares its tree between threads.
    private var cache: [TileLayout.Tile: [UInt8]] = [:]
    private let lock = NSLock()

    enum Backing {
        case store(ObjectStore)
        case memory([ObjectKey: [UInt8]])
    }

    init(size: Int, backing: Backing) {
        self.size = size
        self.backing = backing
    }

    /// True for a log in the layout before tiles, read through tiles computed in memory.
    var isInMemory: Bool {
        if case .memory = backing { return true }
        return false
    }

    // MARK: Tiles

    /// The bytes of `tile` as this tree holds it: the object of that width, else the full
    /// tile, else a wider partial one, cut to `tile`'s width by `cut`.
    private func read(_ tile: TileLayout.Tile, unit: String, cut: ([UInt8]) -> [UInt8]?) throws -> [UInt8] {
        if let cached = lock.withLock({ cache[tile] }) { return cached }
        var candidates = [tile.key]
        if !tile.isFull { candidates.append(TileLayout.Tile(level: tile.level, index: tile.index, width: TileLayout.width).key) }
        for key in candidates {
            guard let bytes = try fetch(key) else { continue }
            guard let tileBytes = cut(bytes) else {
                throw LetheError.integrity("audit log: \(key) does not hold \(tile.width) \(unit) (it was cut short or altered)")
            }
            lock.withLock { cache[tile] = tileBytes }
            return tileBytes
        }
        if case .store(let store) = backing, !tile.isFull {
            let wider = try store.list(prefix: tile.partials).compactMap { info in Int(info.key.name).map { ($0, info.key) } }
                .filter { $0.0 > tile.width && $0.0 < TileLayout.width }.min { $0.0 < $1.0 }
            if let (_, key) = wider, let bytes = try fetch(key), let tileBytes = cut(bytes) {
                lock.withLock { cache[tile] = tileBytes }
                return tileBytes
            }
        }
        throw LetheError.integrity("audit log: \(tile.key) is missing (the tree of \(size) entries needs it)")
    }

    private func fetch(_ key: ObjectKey) throws -> [UInt8]? {
        switch backing {
        case .memory(let objects):
            return objects[key]
        case .store(let store):
            do { return try store.get(key) } catch is ObjectNotFound { return nil }
        }
    }

    /// The hashes of tile `index` of `level`, as wide as this tree makes it.
    func hashes(level: Int, index: Int) throws -> [MerkleTree.Hash] {
        guard let tile = TileLayout.tile(level: level, index: index, treeSize: size) else {
            throw LetheError.integrity("audit log: a tree of \(size) entries has no tile \(index) at level \(level)")
        }
        let bytes = try read(tile, unit: "hashes") { bytes in
            bytes.count % 32 == 0 && bytes.count >= 32 * tile.width ? Array(bytes.prefix(32 * tile.width)) : nil
        }
        return stride(from: 0, to: bytes.count, by: 32).map { Array(bytes[$0..<($0 + 32)]) }
    }

    /// The stored entries of bundle `index`, as many as this tree holds in it.
    func entries(bundle index: Int) throws -> [[UInt8]] {
        guard let tile = TileLayout.tile(level: nil, index: index, treeSize: size) else {
            throw LetheError.integrity("audit log: a tree of \(size) entries has no entry bundle \(index)")
        }
        let bytes = try read(tile, unit: "entries") { bytes in
            guard let entries = EntryBundle.decode(bytes), entries.count >= tile.width else { return nil }
            return EntryBundle.encode(Array(entries.prefix(tile.width)))
        }
        return EntryBundle.decode(bytes)!
    }

    // MARK: Nodes

    /// The root of the complete subtree of height `height` whose leftmost leaf is
    /// `index << height`.
    func node(height: Int, index: Int) throws -> MerkleTree.Hash {
        precondition((index + 1) << height <= size, "node beyond the tree")
        let level = height / TileLayout.height
        let span = 1 << (height % TileLayout.height)
        let first = index * span
        let tile = try hashes(level: level, index: first / TileLayout.width)
        let offset = first % TileLayout.width
        return try TiledTree.perfectRoot(tile[offset..<(offset + span)])
    }

    /// The root of a perfect tree over `hashes` (a power of two of them).
    static func perfectRoot(_ hashes: ArraySlice<MerkleTree.Hash>) throws -> MerkleTree.Hash {
        var level = Array(hashes)
        while level.count > 1 {
            level = try stride(from: 0, to: level.count, by: 2).map { try MerkleTree.nodeHash(level[$0], level[$0 + 1]) }
        }
        return level[0]
    }

    /// MTH of the leaves in `range`, as RFC 9162's recursion meets it: split at the largest
    /// power of two, whose left part is always a complete subtree.
    func root(of range: Range<Int>) throws -> MerkleTree.Hash {
        precondition(range.upperBound <= size)
        let count = range.count
        if count == 0 { return try SHA256.hash([]) }
        if count & (count - 1) == 0, range.lowerBound % count == 0 {
            return try node(height: count.trailingZeroBitCount, index: range.lowerBound / count)
        }
        let split = range.lowerBound + MerkleTree.largestPowerOfTwo(below: count)
        return try MerkleTree.nodeHash(root(of: range.lowerBound..<split), root(of: split..<range.upperBound))
    }

    /// The right edge: one complete subtree per set bit of the size, largest first.
    func frontier() throws -> MerkleFrontier {
        var hashes: [MerkleTree.Hash] = []
        var start = 0
        for bit in (0..<Int.bitWidth).reversed() where size & (1 << bit) != 0 {
            hashes.append(try node(height: bit, index: start >> bit))
            start += 1 << bit
        }
        return MerkleFrontier(size: size, hashes: hashes)!
    }

    func root() throws -> MerkleTree.Hash {
        try frontier().root()
    }

    // MARK: Proofs

    func inclusionProof(index: Int) throws -> [MerkleTree.Hash] {
        try MerkleTree.inclusionProof(index: index, size: size) { try root(of: $0) }
    }

    func consistencyProof(from oldSize: Int) throws -> [MerkleTree.Hash] {
        try MerkleTree.consistencyProof(oldSize: oldSize, newSize: size) { try root(of: $0) }
    }
}

/// The hash tiles of a tree recomputed from its leaves as they stream past, each compared
/// with the stored tile once complete (or, at the right edge, at the end): what lets proofs be
/// taken from stored tiles after one pass over the entries.
struct TileRecomputation {
    let tree: TiledTree
    /// Per level, the index and the hashes of the tile being filled.
    private var filling: [(index: Int, hashes: [MerkleTree.Hash])] = []

    init(tree: TiledTree) {
        self.tree = tree
    }

    /// Adds the next leaf; a problem names the stored tile that differs.
    mutating func add(_ leaf: MerkleTree.Hash) throws -> String? {
        try add(leaf, level: 0)
    }

    private mutating func add(_ hash: MerkleTree.Hash, level: Int) throws -> String? {
        if filling.count == level { filling.append((0, [])) }
        filling[level].hashes.append(hash)
        guard filling[level].hashes.count == TileLayout.width else { return nil }
        let (index, hashes) = filling[level]
        filling[level] = (index + 1, [])
        if let problem = try compare(level: level, index: index, hashes) { return problem }
        return try add(try TiledTree.perfectRoot(hashes[...]), level: level + 1)
    }

    /// Compares the partial tiles of the right edge; call once every leaf was added.
    mutating func finish() throws -> String? {
        for (level, tile) in filling.enumerated() where !tile.hashes.isEmpty {
            if let problem = try compare(level: level, index: tile.index, tile.hashes) { return problem }
        }
        return nil
    }

    private func compare(level: Int, index: Int, _ hashes: [MerkleTree.Hash]) throws -> String? {
        let tile = TileLayout.tile(level: level, index: index, treeSize: tree.size)!
        let stored: [MerkleTree.Hash]
        do {
            stored = try tree.hashes(level: level, index: index)
        } catch let error as KindedError where error.kind == .integrity {
            return "\(error)".replacingOccurrences(of: "audit log: ", with: "")
        }
        guard stored == hashes else { return "\(tile): does not hold the hashes of the entries (a tile was edited or replaced)" }
        return nil
    }
}
