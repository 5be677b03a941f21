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
    ///
    /// As strict as the C2SP signed-note and tlog-checkpoint specifications (and Go's
    /// `note.Open`): the note ends in a newline; the text is separated from the signatures by
    /// its last blank line and holds no other control character than newlines; every signature
    /// line is well formed, so junk appended by whoever writes the store makes the note
    /// invalid rather than ignored; the size is canonical decimal and the root canonical base64.
    public static func verify(_ text: String, publicKey: Ed25519.PublicKey) throws -> Checkpoint? {
        guard text.hasSuffix("\n"), let split = text.range(of: "\n\n", options: .backwards) else { return nil }
        let body = String(text[..<split.lowerBound]) + "\n"
        guard body.unicodeScalars.allSatisfy({ $0 == "\n" || !($0.properties.generalCategory == .control) }) else { return nil }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count >= 3, lines.allSatisfy({ !$0.isEmpty }), isCanonicalDecimal(lines[1]), let size = Int(lines[1]),
              let root = Data(base64Encoded: String(lines[2])), root.count == 32,
              root.base64EncodedString() == lines[2] else { return nil }
        let origin = String(lines[0])
        let expectedID = try keyID(name: origin, publicKey: publicKey)
        var verified = false
        for line in text[split.upperBound...].dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "\u{2014}", !parts[1].isEmpty, !parts[1].contains("+"),
                  let blob = Data(base64Encoded: String(parts[2])), blob.count >= 4,
                  blob.base64EncodedString() == parts[2] else { return nil }
            guard parts[1] == origin, Array(blob.prefix(4)) == expectedID else { continue }
            guard blob.count == 4 + Ed25519.signatureByteCount,
                  publicKey.isValidSignature(Array(blob.dropFirst(4)), for: Array(body.utf8)) else { return nil }
            verified = true
        }
        return verified ? Checkpoint(origin: origin, size: size, root: Array(root), text: text) : nil
    }

    /// Digits only, and no leading zero except for 0 itself.
    private static func isCanonicalDecimal(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (48...57).contains($0) } && (text == "0" || text.first != "0")
    }
}
