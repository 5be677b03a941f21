import LetheCrypto
import LetheStore

/// The service's Ed25519 key, which signs destruction reports and audit-log checkpoints.
///
/// The private key is `<keys>/signing-key.pem` (PKCS#8, 0600, refused if group or others can
/// read it); the public key is `<keys>/signing-key.pub.pem`, the file an auditor is given.
public struct ServiceSigningKey: Sendable {
    public let privateKey: Ed25519.PrivateKey
    public let publicKey: Ed25519.PublicKey

    public static func privatePath(in directory: String) -> String { "\(directory)/signing-key.pem" }
    public static func publicPath(in directory: String) -> String { "\(directory)/signing-key.pub.pem" }

    /// Generates a key pair and writes both files; refuses to replace an existing key.
    public static func create(in directory: String) throws -> ServiceSigningKey {
        let privatePath = privatePath(in: directory)
        guard !FileSystem.exists(privatePath) else { throw KeyError.alreadyInitialized(directory: directory) }
        try FileSystem.makeDirectories(directory, mode: 0o700)
        let key = try Ed25519.PrivateKey()
        let pem = try key.pemRepresentation
        try pem.withUnsafeBytes { try FileSystem.writeAtomically($0, to: privatePath, mode: 0o600) }
        let publicKey = try key.publicKey
        try FileSystem.writeAtomically(Array(try publicKey.pemRepresentation.utf8), to: publicPath(in: directory), mode: 0o644)
        return ServiceSigningKey(privateKey: key, publicKey: publicKey)
    }

    /// Loads the key pair, checking the private file's permissions and that the public file
    /// matches it.
    public static func load(from directory: String) throws -> ServiceSigningKey {
        let privatePath = privatePath(in: directory)
        guard FileSystem.exists(privatePath) else { throw KeyError.notInitialized(directory: directory) }
        try FileSystem.requirePrivate(privatePath)
        var raw = try FileSystem.readFile(privatePath, limit: 16 << 10)
        let key: Ed25519.PrivateKey
        do {
            key = try Ed25519.PrivateKey(pemRepresentation: SecureBytes(wiping: &raw))
        } catch let error as CryptoError {
            throw KeyError.malformedKeyFile(path: privatePath, reason: error.description)
        }
        return ServiceSigningKey(privateKey: key, publicKey: try key.publicKey)
    }

    /// Loads only the public key, from `signing-key.pub.pem`.
    public static func loadPublic(from directory: String) throws -> Ed25519.PublicKey {
        let path = publicPath(in: directory)
        guard FileSystem.exists(path) else { throw KeyError.notInitialized(directory: directory) }
        do {
            return try Ed25519.PublicKey(pemRepresentation: String(decoding: try FileSystem.readFile(path, limit: 16 << 10), as: UTF8.self))
        } catch let error as CryptoError {
            throw KeyError.malformedKeyFile(path: path, reason: error.description)
        }
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        try privateKey.signature(for: message)
    }

    public var fingerprint: String {
        get throws { try publicKey.fingerprint }
    }
}
