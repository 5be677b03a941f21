import Foundation
import LetheCore
import LetheCrypto
import Testing

/// Go → Lethe: a tree, checkpoint and proofs made by golang.org/x/mod/sumdb/tlog and note
/// (Fixtures/go-tlog.json, produced by `Tests/Interop/tlog/main.go generate`), checked with
/// Lethe's own code.
@Suite struct GoFixtureTests {
    static let fixture = try! JSONDecoder().decode(TlogExchange.self, from: TestFiles.fixture("go-tlog.json"))

    var entries: [[UInt8]] { Self.fixture.entries.map(Array.init) }
    var leaves: [MerkleTree.Hash] { get throws { try entries.map(MerkleTree.leafHash) } }

    func goKey() throws -> NoteVerifierKey {
        let text = try #require(Self.fixture.verifierKey)
        return try #require(try NoteVerifierKey(text))
    }

    @Test func fixtureSaysHowItWasMade() throws {
        let header = try #require(Self.fixture.header)
        #expect(header.contains("Tests/Interop/tlog/main.go generate") && header.contains("golang.org/x/mod"))
        #expect(Self.fixture.entries.count == 13)
        #expect(Self.fixture.inclusion.count == 91 && Self.fixture.consistency.count == 91)
    }

    @Test func goKeyIDIsLethesKeyID() throws {
        let key = try goKey()
        #expect(key.name == Self.fixture.origin)
        #expect(try Checkpoint.keyID(name: key.name, publicKey: key.publicKey) == key.keyID)
    }

    @Test func letheVerifiesTheGoSignedCheckpoint() throws {
        let key = try goKey()
        let note = try #require(Self.fixture.note)
        let checkpoint = try #require(try Checkpoint.verify(note, publicKey: key.publicKey))
        #expect(checkpoint.origin == key.name)
        #expect(checkpoint.size == entries.count)
        #expect(checkpoint.root == (try MerkleTree.root(try leaves)))
    }

    @Test func letheRootsAreGoRoots() throws {
        let leaves = try leaves
        for proof in Self.fixture.inclusion {
            #expect(try MerkleTree.root(leaves[0..<proof.treeSize]) == Array(proof.root), "tree size \(proof.treeSize)")
        }
        var frontier = MerkleFrontier()
        for (size, leaf) in leaves.enumerated() {
            try frontier.append(leaf)
            let goRoot = try #require(Self.fixture.consistency.first { $0.newSize == size + 1 }).newRoot
            #expect(try frontier.root() == Array(goRoot), "frontier at size \(size + 1)")
        }
    }

    @Test func letheVerifiesAndReproducesGoInclusionProofs() throws {
        let leaves = try leaves
        for proof in Self.fixture.inclusion {
            let path = proof.proof.map(Array.init)
            #expect(try MerkleTree.verifyInclusion(leaf: leaves[proof.index], index: proof.index, size: proof.treeSize, proof: path, root: Array(proof.root)))
            #expect(try MerkleTree.inclusionProof(index: proof.index, leaves: leaves[0..<proof.treeSize]) == path, "\(proof.index) in \(proof.treeSize)")
        }
    }

    @Test func letheVerifiesAndReproducesGoConsistencyProofs() throws {
        let leaves = try leaves
        for proof in Self.fixture.consistency {
            let path = proof.proof.map(Array.init)
            #expect(try MerkleTree.verifyConsistency(
                oldSize: proof.oldSize, newSize: proof.newSize, oldRoot: Array(proof.oldRoot), newRoot: Array(proof.newRoot), proof: path))
            #expect(try MerkleTree.consistencyProof(oldSize: proof.oldSize, leaves: leaves[0..<proof.newSize]) == path, "\(proof.oldSize) -> \(proof.newSize)")
        }
    }

    /// Every one-byte change in the note's signed text, its blank line, or its signature line's
    /// name and signature is refused.
    @Test func everyOneByteChangeOfTheGoNoteIsRefused() throws {
        let key = try goKey()
        let note = Array(try #require(Self.fixture.note).utf8)
        for position in note.indices {
            var changed = note
            changed[position] ^= 0x01
            let text = String(decoding: changed, as: UTF8.self)
            #expect(try Checkpoint.verify(text, publicKey: key.publicKey) == nil, "byte \(position)")
        }
    }

    /// The committed fixture is exactly what the Go program prints today, so its header tells
    /// the truth about where it came from.
    @Test func goStillGeneratesTheCommittedFixture() throws {
        let run = try GoTlog.run("generate")
        #expect(run.status == 0, "\(run.stderr)")
        var generated = try JSONDecoder().decode(TlogExchange.self, from: run.stdout)
        var committed = Self.fixture
        generated.header = nil
        committed.header = nil
        #expect(generated == committed)
    }
}
