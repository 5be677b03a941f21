import Foundation
import LetheCore
import LetheCrypto
import LetheStore
import Testing

/// RFC 9162 §2.1.4 consistency proofs: generation (SUBPROOF) and verification.
@Suite struct ConsistencyProofTests {
    /// transparency-dev/merkle's testdata/consistency, as copied into
    /// Fixtures/rfc6962-consistency.json (the fixture cites the commit).
    struct Vectors: Decodable {
        struct Vector: Decodable {
            let file: String
            let desc: String
            let size1: Int
            let size2: Int
            let root1: Data
            let root2: Data
            let proof: [Data]
            let wantErr: Bool
        }

        let source: String
        let vectors: [Vector]
    }

    static let vectors = try! JSONDecoder().decode(Vectors.self, from: TestFiles.fixture("rfc6962-consistency.json"))

    static func hash(_ data: Data) -> MerkleTree.Hash { Array(data) }

    @Test func fixtureHoldsEveryPublishedVector() {
        #expect(Self.vectors.source.contains("transparency-dev/merkle"))
        #expect(Self.vectors.vectors.count == 98)
        #expect(Self.vectors.vectors.filter { !$0.wantErr }.count == 6)
    }

    @Test(arguments: vectors.vectors.map(\.file))
    func verificationGivesThePublishedResult(file: String) throws {
        let vector = try #require(Self.vectors.vectors.first { $0.file == file })
        let verified = try MerkleTree.verifyConsistency(
            oldSize: vector.size1, newSize: vector.size2, oldRoot: Self.hash(vector.root1), newRoot: Self.hash(vector.root2),
            proof: vector.proof.map(Self.hash))
        #expect(verified == !vector.wantErr, "\(vector.file): \(vector.desc)")
    }

    /// The happy paths between different sizes are proofs over the reference tree of eight
    /// leaves, so Lethe must generate exactly those hashes.
    @Test func generationReproducesThePublishedProofs() throws {
        let leaves = try MerkleTreeTests.leaves.map(MerkleTree.leafHash)
        let paths = Self.vectors.vectors.filter { !$0.wantErr && $0.file.hasSuffix("/happy-path.json") && $0.size1 < $0.size2 }
        #expect(paths.map { "\($0.size1)->\($0.size2)" } == ["1->8", "6->8", "2->5", "6->7"])
        for vector in paths {
            let proof = try MerkleTree.consistencyProof(oldSize: vector.size1, leaves: leaves[0..<vector.size2])
            #expect(proof == vector.proof.map(Self.hash), "\(vector.file)")
            #expect(try MerkleTree.root(leaves[0..<vector.size1]) == Self.hash(vector.root1))
            #expect(try MerkleTree.root(leaves[0..<vector.size2]) == Self.hash(vector.root2))
        }
    }

    /// For every 1 ≤ m ≤ n ≤ 70: the proof verifies; flipping a bit of any proof hash or of
    /// either root, or moving the old size by one, makes it fail; and so does presenting it for
    /// a neighbouring pair of sizes with the roots of those sizes (the roots a checkpoint signs),
    /// except that an empty proof shows any tree consistent with itself.
    @Test func everyProofVerifiesAndNoAlterationDoes() throws {
        let leaves = try (0..<70).map { try MerkleTree.leafHash(Array("entry \($0)".utf8)) }
        let roots = try (0...leaves.count).map { try MerkleTree.root(leaves[0..<$0]) }
        func flipped(_ hash: MerkleTree.Hash) -> MerkleTree.Hash { [hash[0] ^ 0x01] + hash.dropFirst() }
        for n in 1...leaves.count {
            for m in 1...n {
                let proof = try MerkleTree.consistencyProof(oldSize: m, leaves: leaves[0..<n])
                func verifies(_ old: Int, _ new: Int, _ oldRoot: MerkleTree.Hash, _ newRoot: MerkleTree.Hash, _ path: [MerkleTree.Hash]) throws -> Bool {
                    try MerkleTree.verifyConsistency(oldSize: old, newSize: new, oldRoot: oldRoot, newRoot: newRoot, proof: path)
                }
                #expect(try verifies(m, n, roots[m], roots[n], proof), "\(m) -> \(n)")
                for position in proof.indices {
                    var damaged = proof
                    damaged[position] = flipped(damaged[position])
                    #expect(try !verifies(m, n, roots[m], roots[n], damaged), "\(m) -> \(n), hash \(position)")
                }
                #expect(try !verifies(m, n, flipped(roots[m]), roots[n], proof), "\(m) -> \(n), old root")
                #expect(try !verifies(m, n, roots[m], flipped(roots[n]), proof), "\(m) -> \(n), new root")
                #expect(try !verifies(m - 1, n, roots[m], roots[n], proof), "\(m) -> \(n), old size - 1")
                #expect(try !verifies(m + 1, n, roots[m], roots[n], proof), "\(m) -> \(n), old size + 1")
                for (old, new) in [(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1), (m - 1, n - 1), (m + 1, n + 1)]
                where old >= 0 && new <= leaves.count && old <= leaves.count && !(proof.isEmpty && old == new) {
                    #expect(try !verifies(old, new, roots[old], roots[new], proof), "\(m) -> \(n) presented as \(old) -> \(new)")
                }
            }
        }
    }

    /// RFC 9162's verifier checks the new size only through the shape of the path, so one proof
    /// can verify for several new sizes when the new root is held fixed (Go's tlog.CheckTree
    /// agrees). The binding of size to root comes from the signed checkpoint: callers must take
    /// both sizes and roots from verified checkpoints, never from the proof's sender.
    @Test func newSizeIsBoundByTheSignedCheckpointNotByTheProof() throws {
        let leaves = try (0..<4).map { try MerkleTree.leafHash([UInt8($0)]) }
        let proof = try MerkleTree.consistencyProof(oldSize: 1, leaves: leaves[0..<3])
        let oldRoot = try MerkleTree.root(leaves[0..<1])
        let rootOfThree = try MerkleTree.root(leaves[0..<3])
        #expect(try MerkleTree.verifyConsistency(oldSize: 1, newSize: 4, oldRoot: oldRoot, newRoot: rootOfThree, proof: proof))
        #expect(try !MerkleTree.verifyConsistency(oldSize: 1, newSize: 4, oldRoot: oldRoot, newRoot: MerkleTree.root(leaves), proof: proof))
    }

    @Test func equalSizesNeedAnEmptyProofAndEqualRoots() throws {
        let root = try MerkleTree.root([try MerkleTree.leafHash([1])])
        #expect(try MerkleTree.consistencyProof(oldSize: 1, leaves: [try MerkleTree.leafHash([1])][...]) == [])
        #expect(try MerkleTree.verifyConsistency(oldSize: 5, newSize: 5, oldRoot: root, newRoot: root, proof: []))
        #expect(try !MerkleTree.verifyConsistency(oldSize: 5, newSize: 5, oldRoot: root, newRoot: root, proof: [root]))
        #expect(try !MerkleTree.verifyConsistency(oldSize: 5, newSize: 5, oldRoot: root, newRoot: [root[0] ^ 1] + root.dropFirst(), proof: []))
    }

    @Test func hostileSizesAndProofsAreRefusedWithoutTrapping() throws {
        let leaves = try (0..<9).map { try MerkleTree.leafHash([UInt8($0)]) }
        let proof = try MerkleTree.consistencyProof(oldSize: 3, leaves: leaves[...])
        let old = try MerkleTree.root(leaves[0..<3])
        let new = try MerkleTree.root(leaves)
        let empty = try SHA256.hash([])
        for (oldSize, newSize) in [(0, 9), (0, 0), (9, 3), (-1, 9), (3, -9), (Int.min, Int.max), (Int.max, Int.max), (3, Int.max), (Int.max - 1, Int.max)] {
            #expect(try !MerkleTree.verifyConsistency(oldSize: oldSize, newSize: newSize, oldRoot: old, newRoot: new, proof: proof), "\(oldSize) -> \(newSize)")
        }
        #expect(try !MerkleTree.verifyConsistency(oldSize: 0, newSize: 9, oldRoot: empty, newRoot: new, proof: []))
        #expect(try !MerkleTree.verifyConsistency(oldSize: 3, newSize: 9, oldRoot: old, newRoot: new, proof: []))
        #expect(try !MerkleTree.verifyConsistency(oldSize: 3, newSize: 9, oldRoot: old, newRoot: new, proof: proof + [new]))
        #expect(try !MerkleTree.verifyConsistency(oldSize: 3, newSize: 9, oldRoot: old, newRoot: new, proof: proof + Array(repeating: new, count: 10_000)))
        #expect(try !MerkleTree.verifyConsistency(oldSize: 3, newSize: 9, oldRoot: old, newRoot: new, proof: Array(proof.dropLast())))
        #expect(try !MerkleTree.verifyConsistency(oldSize: 3, newSize: 9, oldRoot: [], newRoot: [], proof: [[], []]))
    }

    @Test(arguments: [0, 10, -1])
    func generationRefusesSizesOutsideTheTree(oldSize: Int) throws {
        let leaves = try (0..<9).map { try MerkleTree.leafHash([UInt8($0)]) }
        let error = try #require(throws: LetheError.self) { try MerkleTree.consistencyProof(oldSize: oldSize, leaves: leaves[...]) }
        #expect(error.kind == .usage)
    }
}
