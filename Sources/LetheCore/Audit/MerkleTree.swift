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

    /// PATH(m, D[n]): the audit path of leaf `index` (RFC 9162 §2.1.3.1).
    public static func inclusionProof(index: Int, leaves: ArraySlice<Hash>) throws -> [Hash] {
        precondition(index >= 0 && index < leaves.count)
        guard leaves.count > 1 else { return [] }
        let k = largestPowerOfTwo(below: leaves.count)
        let start = leaves.startIndex
        if index < k {
            return try inclusionProof(index: index, leaves: leaves[start..<(start + k)]) + [root(leaves[(start + k)...])]
        }
        return try inclusionProof(index: index - k, leaves: leaves[(start + k)...]) + [root(leaves[start..<(start + k)])]
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
        guard oldSize >= 1, oldSize <= leaves.count else {
            throw LetheError.usage("no consistency proof from tree size \(oldSize) to \(leaves.count): it needs 1 ≤ old size ≤ new size")
        }
        return try subproof(oldSize, leaves, oldTreeIsWhole: true)
    }

    /// SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1. `oldTreeIsWhole` is b: true while the old tree
    /// is still the leftmost subtree of this one, whose root the verifier already holds.
    private static func subproof(_ m: Int, _ leaves: ArraySlice<Hash>, oldTreeIsWhole: Bool) throws -> [Hash] {
        if m == leaves.count { return oldTreeIsWhole ? [] : [try root(leaves)] }
        let k = largestPowerOfTwo(below: leaves.count)
        let left = leaves[leaves.startIndex..<(leaves.startIndex + k)]
        let right = leaves[(leaves.startIndex + k)...]
        if m <= k {
            return try subproof(m, left, oldTreeIsWhole: oldTreeIsWhole) + [root(right)]
        }
        return try subproof(m - k, right, oldTreeIsWhole: false) + [root(left)]
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
