import Foundation
import LetheCrypto

/// A signed tree head in the C2SP `tlog-checkpoint` format, signed as a C2SP `signed-note`
/// with Ed25519:
///
///     <origin>
///     <tree size, decimal>
///     <root hash, base64>
///
///     — <key name> <base64(key ID ‖ signature)>
///
/// The signature covers the three text lines including the final newline; the key ID is
/// `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[0..<4]`. Go's sumdb note package,
/// Sigstore and transparency-log witnesses read this form.
public struct Checkpoint: Equatable, Sendable, Codable {
    public let origin: String
    public let size: Int
    public let root: [UInt8]
    /// The whole signed note, as stored.
    public let text: String

    public var body: String { "\(origin)\n\(size)\n\(Data(root).base64EncodedString())\n" }

    public static func keyID(name: String, publicKey: Ed25519.PublicKey) throws -> [UInt8] {
        Array(try SHA256.hash(Array(name.utf8) + [0x0a, 0x01] + publicKey.rawRepresentation)[0..<4])
    }

    /// A checkpoint signed by `key` under key name `origin`.
    public static func sign(origin: String, size: Int, root: [UInt8], key: Ed25519.PrivateKey) throws -> Checkpoint {
        let body = "\(origin)\n\(size)\n\(Data(root).base64EncodedString())\n"
        let signature = try key.signature(for: Array(body.utf8))
        let blob = try keyID(name: origin, publicKey: key.publicKey) + signature
        let text = body + "\n\u{2014} \(origin) \(Data(blob).base64EncodedString())\n"
        return Checkpoint(origin: origin, size: size, root: root, text: text)
    }

    /// Parses a signed checkpoint and verifies its signature by `publicKey` under the key name
    /// `origin`. Anything else is `nil`.
    public static func verify(_ text: String, publicKey: Ed25519.PublicKey) throws -> Checkpoint? {
        guard let split = text.range(of: "\n\n") else { return nil }
        let body = String(text[..<split.lowerBound]) + "\n"
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count >= 3, let size = Int(lines[1]), size >= 0,
              let root = Data(base64Encoded: String(lines[2])), root.count == 32 else { return nil }
        let origin = String(lines[0])
        let expectedID = try keyID(name: origin, publicKey: publicKey)
        for line in text[split.upperBound...].split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == "\u{2014}", parts[1] == origin,
                  let blob = Data(base64Encoded: String(parts[2])), blob.count == 4 + Ed25519.signatureByteCount,
                  Array(blob.prefix(4)) == expectedID else { continue }
            if publicKey.isValidSignature(Array(blob.dropFirst(4)), for: Array(body.utf8)) {
                return Checkpoint(origin: origin, size: size, root: Array(root), text: text)
            }
            return nil
        }
        return nil
    }
}
