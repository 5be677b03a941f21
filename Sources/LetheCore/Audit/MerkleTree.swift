import LetheCrypto
import LetheStore

/// The Merkle tree of RFC 9162 (Certificate Transparency 2.0), §2.1: SHA-256, leaves hashed
/// as `H(0x00 ‖ entry)`, interior nodes as `H(0x01 ‖ left ‖ right)`, and a tree of n leaves
/// split at the largest power of two smaller than n.
public enum MerkleTree {
    public typealias Hash = [UInt8]

    public static func leafHash(_ entry: [UInt8]) throws -> Hash {
        try SHA256.hash([0] + entry)
    }

    public static func nodeHash(_ left: Hash, _ right: Hash) throws -> Hash {
        try SHA256.hash([1] + left + right)
    }

    /// MTH(D[n]) over leaf hashes. The empty tree's hash is SHA-256 of nothing.
    public static func root(_ leaves: ArraySlice<Hash>) throws -> Hash {
        switch leaves.count {
        case 0: return try SHA256.hash([])
        case 1: return leaves.first!
        default:
            let k = largestPowerOfTwo(below: leaves.count)
            let start = leaves.startIndex
            return try nodeHash(root(leaves[start..<(start + k)]), root(leaves[(start + k)...]))
        }
    }

    public static func root(_ leaves: [Hash]) throws -> Hash {
        try root(leaves[...])
    }

    /// The root of a range of leaves, as a proof needs it: from an array of leaf hashes, or
    /// from the log's stored tiles (`TiledTree`), which answer in O(log n) reads.
    public typealias RangeRoot = (Range<Int>) throws -> Hash

    /// PATH(m, D[n]): the audit path of leaf `index` (RFC 9162 §2.1.3.1).
    public static func inclusionProof(index: Int, leaves: ArraySlice<Hash>) throws -> [Hash] {
        let start = leaves.startIndex
        return try inclusionProof(index: index, size: leaves.count) { try root(leaves[($0.lowerBound + start)..<($0.upperBound + start)]) }
    }

    /// PATH(m, D[n]) over a tree of `size` leaves whose subtree roots `root` supplies.
    public static func inclusionProof(index: Int, size: Int, root: RangeRoot) throws -> [Hash] {
        guard index >= 0, index < size else {
            throw LetheError.usage("no inclusion proof of entry \(index) in a tree of \(size) entries")
        }
        func path(_ m: Int, _ range: Range<Int>) throws -> [Hash] {
            guard range.count > 1 else { return [] }
            let split = range.lowerBound + largestPowerOfTwo(below: range.count)
            if m < split { return try path(m, range.lowerBound..<split) + [root(split..<range.upperBound)] }
            return try path(m, split..<range.upperBound) + [root(range.lowerBound..<split)]
        }
        return try path(index, 0..<size)
    }

    /// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(leaf: Hash, index: Int, size: Int, proof: [Hash], root: Hash) throws -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index
        var sn = size - 1
        var r = leaf
        for p in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = try nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = try nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && ConstantTime.equals(r, root)
    }

    /// PROOF(m, D[n]) (RFC 9162 §2.1.4.1): the hashes showing that the tree of the first
    /// `oldSize` leaves is a prefix of the tree of all `leaves`, so that a checkpoint holder can
    /// check that a later checkpoint extends theirs without rewriting it. Empty when
    /// `oldSize == leaves.count`. A proof from the empty tree is refused rather than returned
    /// empty, because no verifier (RFC 9162, Go's tlog, transparency-dev) would accept one.
    public static func consistencyProof(oldSize: Int, leaves: ArraySlice<Hash>) throws -> [Hash] {
        let start = leaves.startIndex
        return try consistencyProof(oldSize: oldSize, newSize: leaves.count) {
            try root(leaves[($0.lowerBound + start)..<($0.upperBound + start)])
        }
    }

    /// PROOF(m, D[n]) over a tree of `newSize` leaves whose subtree roots `root` supplies.
    public static func consistencyProof(oldSize: Int, newSize: Int, root: RangeRoot) throws -> [Hash] {
        guard oldSize >= 1, oldSize <= newSize else {
            throw LetheError.usage("no consistency proof from tree size \(oldSize) to \(newSize): it needs 1 ≤ old size ≤ new size")
        }
        // SUBPROOF(m, D[n], b); `oldTreeIsWhole` is b: true while the old tree is still the
        // leftmost subtree of this one, whose root the verifier already holds.
        func subproof(_ m: Int, _ range: Range<Int>, oldTreeIsWhole: Bool) throws -> [Hash] {
            if m == range.count { return oldTreeIsWhole ? [] : [try root(range)] }
            let k = largestPowerOfTwo(below: range.count)
            let split = range.lowerBound + k
            if m <= k {
                return try subproof(m, range.lowerBound..<split, oldTreeIsWhole: oldTreeIsWhole) + [root(split..<range.upperBound)]
            }
            return try subproof(m - k, split..<range.upperBound, oldTreeIsWhole: false) + [root(range.lowerBound..<split)]
        }
        return try subproof(oldSize, 0..<newSize, oldTreeIsWhole: true)
    }

    /// Verifies a consistency proof (RFC 9162 §2.1.4.2). Total over hostile input: negative
    /// sizes, `oldSize > newSize`, a proof from the empty tree (`oldSize == 0`, which proves
    /// nothing), an empty proof for different sizes and a proof with hashes left over are all
    /// false; equal sizes are consistent exactly when the proof is empty and the roots are
    /// equal. These are the results of Go's tlog.CheckTree and transparency-dev's verifier.
    public static func verifyConsistency(oldSize: Int, newSize: Int, oldRoot: Hash, newRoot: Hash, proof: [Hash]) throws -> Bool {
        guard oldSize >= 1, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && ConstantTime.equals(oldRoot, newRoot) }
        guard !proof.isEmpty else { return false }
        // Step 2: a power-of-two old tree is itself a node of the new one, so its root starts the
        // path; otherwise the proof's first hash does.
        var path = proof[...]
        let start = oldSize & (oldSize - 1) == 0 ? oldRoot : path.removeFirst()
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = start
        var sr = start
        for c in path {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = try nodeHash(c, fr)
                sr = try nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = try nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && ConstantTime.equals(fr, oldRoot) && ConstantTime.equals(sr, newRoot)
    }

    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// The right edge of an RFC 9162 tree: the roots of its perfect subtrees, largest (leftmost)
/// first — one per set bit of the size. Enough to append a leaf and compute the new root in
/// O(log n) without reading the earlier leaves.
public struct MerkleFrontier: Codable, Equatable, Sendable {
    public private(set) var size: Int = 0
    /// Subtree roots, left to right; the i-th covers 2^(its height) leaves.
    public private(set) var hashes: [MerkleTree.Hash] = []

    public init() {}

    /// The frontier of a tree of `size` leaves from its perfect subtrees' roots, left to right.
    init?(size: Int, hashes: [MerkleTree.Hash]) {
        self.size = size
        self.hashes = hashes
        guard isWellFormed else { return nil }
    }

    public mutating func append(_ leaf: MerkleTree.Hash) throws {
        hashes.append(leaf)
        size += 1
        // Merge equal-height subtrees at the right edge: one merge per trailing 1-bit that
        // the increment carried through.
        var carried = size
        while carried & 1 == 0 {
            let right = hashes.removeLast()
            let left = hashes.removeLast()
            hashes.append(try MerkleTree.nodeHash(left, right))
            carried >>= 1
        }
    }

    /// MTH of the leaves appended so far.
    public func root() throws -> MerkleTree.Hash {
        guard var root = hashes.last else { return try SHA256.hash([]) }
        for subtree in hashes.dropLast().reversed() {
            root = try MerkleTree.nodeHash(subtree, root)
        }
        return root
    }

    /// True when the shape matches the size (one subtree per set bit).
    package var isWellFormed: Bool { hashes.count == size.nonzeroBitCount && hashes.allSatisfy { $0.count == 32 } }
}
