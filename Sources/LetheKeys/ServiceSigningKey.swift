import LetheCrypto
import LetheStore

/// The service's Ed25519 key, which signs destruction reports and audit-log checkpoints.
///
/// The private key is `<keys>/signing-key.pem` (PKCS#8, 0600), read only through
/// `KeyDirectory`, so it is refused unless it is a regular file of the user's, private, with
/// one link, in a private key directory. The public key is `<keys>/signing-key.pub.pem`
/// (0644), the file an auditor is given; it is not secret and is read normally.
public struct ServiceSigningKey: Sendable {
    public let privateKey: Ed25519.PrivateKey
    public let publicKey: Ed25519.PublicKey

    static let privateName = "signing-key.pem"
    static let publicName = "signing-key.pub.pem"

    public static func privatePath(in directory: String) -> String { "\(directory)/\(privateName)" }
    public static func publicPath(in directory: String) -> String { "\(directory)/\(publicName)" }

    /// Generates a key pair and writes both files; refuses to replace an existing key.
    public static func create(in directory: String) throws -> ServiceSigningKey {
        guard !FileSystem.exists(privatePath(in: directory)) else { throw KeyError.alreadyInitialized(directory: directory) }
        let keys = try KeyDirectory(directory, opening: .creatingIfMissing)
        let key = try Ed25519.PrivateKey()
        try key.pemRepresentation.withUnsafeBytes { try keys.write($0, to: privateName, mode: 0o600) }
        let publicKey = try key.publicKey
        try Array(publicKey.pemRepresentation.utf8).withUnsafeBytes { try keys.write($0, to: publicName, mode: 0o644) }
        return ServiceSigningKey(privateKey: key, publicKey: publicKey)
    }

    /// Loads the key pair from the private key file; the public key is derived from it, never
    /// taken from `signing-key.pub.pem` (see `requireMatchingPublicFile`).
    public static func load(from directory: String) throws -> ServiceSigningKey {
        let pem: SecureBytes
        do {
            pem = try KeyDirectory(directory).readSecret(privateName, limit: 16 << 10)
        } catch let error as SystemError where error.isNotFound {
            throw FileSystem.exists("\(directory)/keystore.json")
                ? KeyError.signingKeyMissing(path: privatePath(in: directory)) : KeyError.notInitialized(directory: directory)
        }
        let key: Ed25519.PrivateKey
        do {
            key = try Ed25519.PrivateKey(pemRepresentation: pem)
        } catch let error as CryptoError {
            throw KeyError.malformedKeyFile(path: privatePath(in: directory), reason: error.description)
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

    /// Throws `KeyError.publicKeyMismatch` unless `signing-key.pub.pem` in `directory` holds
    /// this key's public half: auditors given that file would otherwise reject every report.
    public func requireMatchingPublicFile(in directory: String) throws {
        let stated = try? Self.loadPublic(from: directory)
        guard stated == publicKey else {
            throw KeyError.publicKeyMismatch(path: Self.publicPath(in: directory), privatePath: Self.privatePath(in: directory))
        }
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        try privateKey.signature(for: message)
    }

    /// The fingerprint of the public key derived from the private key.
    public var fingerprint: String {
        get throws { try publicKey.fingerprint }
    }
}

extension ServiceSigningKey {
    /// A key pair held only in memory (for tests and fuzzing; the service's is always a file).
    package init(privateKey: Ed25519.PrivateKey) throws {
        self.init(privateKey: privateKey, publicKey: try privateKey.publicKey)
    }
}
