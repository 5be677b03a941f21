import Foundation
import LetheCore
import LetheCrypto
import Testing

/// Checkpoints in the C2SP tlog-checkpoint / signed-note form.
@Suite struct CheckpointTests {
    let key = try! Ed25519.PrivateKey()
    let root = Array(repeating: UInt8(7), count: 32)

    @Test func signedCheckpointHasTheSignedNoteLayout() throws {
        let checkpoint = try Checkpoint.sign(origin: "lethe.local/abc", size: 42, root: root, key: key)
        let lines = checkpoint.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "lethe.local/abc")
        #expect(lines[1] == "42")
        #expect(lines[2] == Substring(Data(root).base64EncodedString()))
        #expect(lines[3] == "")
        #expect(lines[4].hasPrefix("\u{2014} lethe.local/abc "))
        #expect(checkpoint.text.hasSuffix("\n"))
        let blob = Data(base64Encoded: String(lines[4].split(separator: " ")[2]))!
        #expect(blob.count == 68)
        // Key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4], computed independently here.
        let expectedID = try SHA256.hash(Array("lethe.local/abc".utf8) + [0x0a, 0x01] + key.publicKey.rawRepresentation).prefix(4)
        #expect(Array(blob.prefix(4)) == Array(expectedID))
        // The signature covers exactly the three text lines with their newlines.
        #expect(try key.publicKey.isValidSignature(Array(blob.dropFirst(4)), for: Array("lethe.local/abc\n42\n\(Data(root).base64EncodedString())\n".utf8)))
    }

    @Test func verifyAcceptsItsOwnCheckpoint() throws {
        let checkpoint = try Checkpoint.sign(origin: "lethe.local/abc", size: 3, root: root, key: key)
        let parsed = try #require(try Checkpoint.verify(checkpoint.text, publicKey: key.publicKey))
        #expect(parsed.size == 3 && parsed.root == root && parsed.origin == "lethe.local/abc")
    }

    @Test func verifyRejectsAnotherKey() throws {
        let checkpoint = try Checkpoint.sign(origin: "lethe.local/abc", size: 3, root: root, key: key)
        #expect(try Checkpoint.verify(checkpoint.text, publicKey: try Ed25519.PrivateKey().publicKey) == nil)
    }

    @Test func verifyRejectsAnEditedTreeSize() throws {
        let checkpoint = try Checkpoint.sign(origin: "lethe.local/abc", size: 3, root: root, key: key)
        let edited = checkpoint.text.replacingOccurrences(of: "\n3\n", with: "\n4\n")
        #expect(try Checkpoint.verify(edited, publicKey: key.publicKey) == nil)
    }

    @Test func verifyRejectsAnEditedRoot() throws {
        let checkpoint = try Checkpoint.sign(origin: "lethe.local/abc", size: 3, root: root, key: key)
        let other = Data(Array(repeating: UInt8(8), count: 32)).base64EncodedString()
        let edited = checkpoint.text.replacingOccurrences(of: Data(root).base64EncodedString(), with: other)
        #expect(try Checkpoint.verify(edited, publicKey: key.publicKey) == nil)
    }
}
