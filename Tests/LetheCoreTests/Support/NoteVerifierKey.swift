import Foundation
import LetheCore
import LetheCrypto

/// A signed-note verifier key, `<name>+<key ID, 8 hex digits>+<base64(0x01 ‖ Ed25519 public key)>`,
/// the string Go's note.NewVerifier reads. Lethe has no API for it, so the tests carry it.
struct NoteVerifierKey: Equatable {
    let name: String
    let keyID: [UInt8]
    let publicKey: Ed25519.PublicKey

    init(name: String, publicKey: Ed25519.PublicKey) throws {
        self.name = name
        self.publicKey = publicKey
        keyID = try Checkpoint.keyID(name: name, publicKey: publicKey)
    }

    /// Parses the string; nil unless it has three parts, an 8-digit ID and an Ed25519 key.
    init?(_ text: String) throws {
        let parts = text.split(separator: "+", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, let id = Hex.decode(parts[1]),
              let key = Data(base64Encoded: String(parts[2])), key.count == 33, key.first == 0x01 else { return nil }
        name = String(parts[0])
        keyID = id
        publicKey = try Ed25519.PublicKey(rawRepresentation: Array(key.dropFirst()))
    }

    var text: String { "\(name)+\(Hex.encode(keyID))+\(Data([0x01] + publicKey.rawRepresentation).base64EncodedString())" }
}
