import Foundation
import LetheCore
import LetheCrypto

/// The JSON that Tests/Interop/tlog/main.go prints (`generate`) and reads (`verify DIR`, as
/// tree.json): entries and their proofs, with every byte string in base64 as Go's encoding/json
/// writes `[]byte` and tlog.Hash.
struct TlogExchange: Codable, Equatable {
    struct Inclusion: Codable, Equatable {
        var index: Int
        var treeSize: Int
        var root: Data
        var proof: [Data]
    }

    struct Consistency: Codable, Equatable {
        var oldSize: Int
        var newSize: Int
        var oldRoot: Data
        var newRoot: Data
        var proof: [Data]
    }

    var header: String?
    var origin: String?
    var note: String?
    var verifierKey: String?
    var entries: [Data]
    var inclusion: [Inclusion]
    var consistency: [Consistency]

    /// Every inclusion and consistency proof Lethe makes over `entries` (at least one), for every
    /// pair of sizes.
    static func letheProofs(entries: [[UInt8]]) throws -> TlogExchange {
        let leaves = try entries.map(MerkleTree.leafHash)
        let roots = try (0...leaves.count).map { try MerkleTree.root(leaves[0..<$0]) }
        var exchange = TlogExchange(entries: entries.map { Data($0) }, inclusion: [], consistency: [])
        for size in 1...leaves.count {
            for index in 0..<size {
                let proof = try MerkleTree.inclusionProof(index: index, leaves: leaves[0..<size])
                exchange.inclusion.append(Inclusion(index: index, treeSize: size, root: Data(roots[size]), proof: proof.map { Data($0) }))
            }
            for old in 1...size {
                let proof = try MerkleTree.consistencyProof(oldSize: old, leaves: leaves[0..<size])
                exchange.consistency.append(Consistency(
                    oldSize: old, newSize: size, oldRoot: Data(roots[old]), newRoot: Data(roots[size]), proof: proof.map { Data($0) }))
            }
        }
        return exchange
    }
}
