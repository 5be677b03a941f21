import Foundation
import LetheCore
import LetheCrypto
import Testing

/// Lethe → Go: a checkpoint signed by Checkpoint.sign and proofs made by MerkleTree, checked by
/// `Tests/Interop/tlog/main.go verify` with note.Open, tlog.CheckRecord and tlog.CheckTree.
@Suite struct GoTlogVerifierTests {
    /// An audit log's worth of entries, a key, and its checkpoint over all of them.
    struct Log {
        let origin = "lethe.local/\(UUID().uuidString.lowercased())"
        let key: Ed25519.PrivateKey
        let entries: [[UInt8]]
        let checkpoint: Checkpoint
        let proofs: TlogExchange

        init() throws {
            key = try Ed25519.PrivateKey()
            entries = (0..<21).map { Array(#"{"index":\#($0),"operation":"backup","tenant":"t\#($0 % 4)"}"#.utf8) }
            let root = try MerkleTree.root(try entries.map(MerkleTree.leafHash))
            checkpoint = try Checkpoint.sign(origin: origin, size: entries.count, root: root, key: key)
            proofs = try TlogExchange.letheProofs(entries: entries)
        }

        var verifierKey: String { get throws { try NoteVerifierKey(name: origin, publicKey: key.publicKey).text } }
    }

    /// Writes checkpoint.txt, verifier-key.txt and tree.json into a fresh directory, runs the Go
    /// verifier on it, and removes the directory.
    func goVerify(checkpoint: String, verifierKey: String, proofs: TlogExchange) throws -> GoTlog.Run {
        let directory = NSTemporaryDirectory() + "lethe-tlog-verify-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(checkpoint.utf8).write(to: URL(fileURLWithPath: "\(directory)/checkpoint.txt"))
        try Data("\(verifierKey)\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/verifier-key.txt"))
        // Go's tlog.Hash reads exactly `"<44 base64 characters>"`, so "/" must not be escaped.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        try encoder.encode(proofs).write(to: URL(fileURLWithPath: "\(directory)/tree.json"))
        return try GoTlog.run("verify", directory)
    }

    @Test func goAcceptsLethesCheckpointAndProofs() throws {
        let log = try Log()
        #expect(log.proofs.inclusion.count == 231 && log.proofs.consistency.count == 231)
        let run = try goVerify(checkpoint: log.checkpoint.text, verifierKey: try log.verifierKey, proofs: log.proofs)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(String(decoding: run.stdout, as: UTF8.self).hasPrefix("ok:"))
    }

    @Test func goRefusesACheckpointWithAChangedRootByte() throws {
        let log = try Log()
        var root = log.checkpoint.root
        root[0] ^= 0x01
        let changed = log.checkpoint.text.replacingOccurrences(
            of: Data(log.checkpoint.root).base64EncodedString(), with: Data(root).base64EncodedString())
        #expect(changed != log.checkpoint.text)
        let run = try goVerify(checkpoint: changed, verifierKey: try log.verifierKey, proofs: log.proofs)
        #expect(run.status == 1)
        #expect(run.stderr.contains("checkpoint note"), "\(run.stderr)")
    }

    /// A checkpoint Lethe signed correctly, but over a root that is not the entries' root: the
    /// signature is fine, so only Go's own tree computation can refuse it.
    @Test func goRefusesASignedCheckpointOverTheWrongRoot() throws {
        let log = try Log()
        var root = log.checkpoint.root
        root[31] ^= 0x80
        let wrong = try Checkpoint.sign(origin: log.origin, size: log.entries.count, root: root, key: log.key)
        let run = try goVerify(checkpoint: wrong.text, verifierKey: try log.verifierKey, proofs: log.proofs)
        #expect(run.status == 1)
        #expect(run.stderr.contains("is not tlog's root"), "\(run.stderr)")
    }

    @Test func goRefusesAWrongInclusionProofHash() throws {
        let log = try Log()
        var proofs = log.proofs
        let target = try #require(proofs.inclusion.firstIndex { $0.index == 5 && $0.treeSize == 21 })
        proofs.inclusion[target].proof[1][7] ^= 0x01
        let run = try goVerify(checkpoint: log.checkpoint.text, verifierKey: try log.verifierKey, proofs: proofs)
        #expect(run.status == 1)
        #expect(run.stderr.contains("inclusion proof of entry 5 in tree size 21"), "\(run.stderr)")
    }

    @Test func goRefusesAWrongConsistencyProofHash() throws {
        let log = try Log()
        var proofs = log.proofs
        let target = try #require(proofs.consistency.firstIndex { $0.oldSize == 6 && $0.newSize == 21 })
        proofs.consistency[target].proof[0][0] ^= 0x01
        let run = try goVerify(checkpoint: log.checkpoint.text, verifierKey: try log.verifierKey, proofs: proofs)
        #expect(run.status == 1)
        #expect(run.stderr.contains("consistency proof 6 -> 21"), "\(run.stderr)")
    }

    @Test func goRefusesLethesCheckpointUnderAnotherKey() throws {
        let log = try Log()
        let other = try NoteVerifierKey(name: log.origin, publicKey: try Ed25519.PrivateKey().publicKey).text
        let run = try goVerify(checkpoint: log.checkpoint.text, verifierKey: other, proofs: log.proofs)
        #expect(run.status == 1)
        #expect(run.stderr.contains("checkpoint note"), "\(run.stderr)")
    }
}
