import LetheCrypto

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
    var isWellFormed: Bool { hashes.count == size.nonzeroBitCount && hashes.allSatisfy { $0.count == 32 } }
}
