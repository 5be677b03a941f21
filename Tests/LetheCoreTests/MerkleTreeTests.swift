import LetheCore
import LetheCrypto
import Testing

/// RFC 6962/9162 Merkle tree hashing against the Certificate Transparency reference vectors
/// (transparency-dev/merkle, testonly/constants.go: eight leaves, the root of every prefix, and
/// two audit paths in the tree of eight).
@Suite struct MerkleTreeTests {
    static let leaves: [[UInt8]] = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ].map { Hex.decode($0)! }

    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    var leafHashes: [MerkleTree.Hash] { get throws { try Self.leaves.map(MerkleTree.leafHash) } }

    @Test(arguments: 0...8)
    func rootOfEveryPrefixMatchesTheReference(size: Int) throws {
        #expect(Hex.encode(try MerkleTree.root(try leafHashes[0..<size])) == Self.roots[size])
    }

    @Test func auditPathOfLeafZeroInTreeOfEightMatchesTheReference() throws {
        let path = try MerkleTree.inclusionProof(index: 0, leaves: try leafHashes[...])
        #expect(path.map(Hex.encode) == [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ])
    }

    @Test func auditPathOfLeafFiveInTreeOfEightMatchesTheReference() throws {
        let path = try MerkleTree.inclusionProof(index: 5, leaves: try leafHashes[...])
        #expect(path.map(Hex.encode) == [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ])
    }

    @Test func everyInclusionProofVerifiesInTreesOfEverySizeUpToThirtyThree() throws {
        let leaves = try (0..<33).map { try MerkleTree.leafHash(Array("entry \($0)".utf8)) }
        for size in 1...leaves.count {
            let root = try MerkleTree.root(leaves[0..<size])
            for index in 0..<size {
                let proof = try MerkleTree.inclusionProof(index: index, leaves: leaves[0..<size])
                #expect(try MerkleTree.verifyInclusion(leaf: leaves[index], index: index, size: size, proof: proof, root: root))
            }
        }
    }

    @Test func proofForOneLeafDoesNotVerifyAnother() throws {
        let leaves = try leafHashes
        let root = try MerkleTree.root(leaves)
        let proof = try MerkleTree.inclusionProof(index: 2, leaves: leaves[...])
        #expect(try !MerkleTree.verifyInclusion(leaf: leaves[3], index: 2, size: 8, proof: proof, root: root))
        #expect(try !MerkleTree.verifyInclusion(leaf: leaves[2], index: 3, size: 8, proof: proof, root: root))
        #expect(try !MerkleTree.verifyInclusion(leaf: leaves[2], index: 2, size: 8, proof: proof, root: MerkleTree.root(leaves[0..<7])))
        #expect(try !MerkleTree.verifyInclusion(leaf: leaves[2], index: 2, size: 2, proof: proof, root: root))
        var damaged = proof
        damaged[1][0] ^= 1
        #expect(try !MerkleTree.verifyInclusion(leaf: leaves[2], index: 2, size: 8, proof: damaged, root: root))
        #expect(try !MerkleTree.verifyInclusion(leaf: leaves[2], index: 2, size: 8, proof: Array(proof.dropLast()), root: root))
    }
}

@Suite struct MerkleFrontierTests {
    @Test func frontierRootEqualsTheFullRootAtEverySize() throws {
        var frontier = MerkleFrontier()
        var leaves: [MerkleTree.Hash] = []
        #expect(try frontier.root() == MerkleTree.root(leaves))
        for index in 0..<70 {
            let leaf = try MerkleTree.leafHash(Array("leaf \(index)".utf8))
            leaves.append(leaf)
            try frontier.append(leaf)
            #expect(try frontier.root() == MerkleTree.root(leaves), "size \(index + 1)")
            #expect(frontier.hashes.count == frontier.size.nonzeroBitCount)
        }
    }

    @Test func frontierReproducesTheReferenceRoots() throws {
        var frontier = MerkleFrontier()
        for (size, entry) in MerkleTreeTests.leaves.enumerated() {
            try frontier.append(try MerkleTree.leafHash(entry))
            #expect(Hex.encode(try frontier.root()) == MerkleTreeTests.roots[size + 1])
        }
    }
}
