import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// A document in the store that the service signed, bound to the place it is meant for.
///
/// The store is writable by S, who holds no key of the host: whatever Lethe later decides from
/// a document it keeps there (a destruction request's state, a registry proposal) must carry
/// the service's Ed25519 signature. The signature covers a context string (normally the
/// object's key) as well as the bytes, so a genuine document moved to another request or
/// another slot does not verify there. A signature does not stop S from putting back an
/// older genuine copy; callers that decide from such a document compare it with the audit
/// log, which the host anchors (`TrustAnchors`).
///
///     {"context": "...", "document": base64(bytes), "format": "lethe-signed-object-v1", "signature": base64}
public struct SignedObject: Codable, Equatable, Sendable {
    public static let formatName = "lethe-signed-object-v1"

    public var format: String
    public var context: String
    public var document: String
    public var signature: String

    /// The bytes the signature covers: a label, the context and the document, NUL-separated.
    package static func signedBytes(context: String, document: [UInt8]) -> [UInt8] {
        Array("lethe/v1/signed-object".utf8) + [0] + Array(context.utf8) + [0] + document
    }

    /// Signs `document` for `context`.
    public static func sign(_ document: [UInt8], context: String, key: ServiceSigningKey) throws -> SignedObject {
        SignedObject(
            format: formatName, context: context, document: Data(document).base64EncodedString(),
            signature: Data(try key.sign(signedBytes(context: context, document: document))).base64EncodedString())
    }

    /// The stored form: canonical JSON.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// The document inside `bytes`, if they are a signed object for `context` that `publicKey`
    /// signed; otherwise an integrity error naming `object`.
    public static func open(_ bytes: [UInt8], context: String, publicKey: Ed25519.PublicKey, object: ObjectKey) throws -> [UInt8] {
        guard let envelope = try? JSONDecoder().decode(SignedObject.self, from: Data(bytes)),
              envelope.format == formatName,
              let document = Data(base64Encoded: envelope.document).map(Array.init),
              let signature = Data(base64Encoded: envelope.signature).map(Array.init) else {
            throw LetheError.integrity("\(object) is not a signed Lethe object (damaged or written outside Lethe)")
        }
        guard envelope.context == context else {
            throw LetheError.integrity("\(object) was signed for \(envelope.context), not for this place (moved or swapped)")
        }
        guard publicKey.isValidSignature(signature, for: signedBytes(context: context, document: document)) else {
            throw LetheError.integrity("\(object) does not carry this service's signature (edited outside Lethe)")
        }
        return document
    }
}
