import Glibc
import LetheCrypto
import LetheStore

/// The default KEK provider: one file of 32 random bytes per epoch,
/// `<keys>/kek/epoch-000001.kek`, created 0600 and refused when group or others can read it.
///
/// Wrapping uses a key derived per use, `HKDF-SHA256(KEK, info: "lethe/v1/kek-wrap" ‖ context)`,
/// then AES key wrap with padding (RFC 5649): the context (tenant, DEK id, epoch) is bound
/// without RFC 5649 having associated data of its own. Destroying an epoch overwrites the file
/// with zeros, fsyncs, unlinks it and fsyncs the directory.
public struct FileKEKProvider: KEKProvider {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var location: String { directory }

    func path(_ epoch: KEKEpoch) -> String {
        let digits = String(epoch.number)
        return "\(directory)/epoch-\(String(repeating: "0", count: max(0, 6 - digits.count)))\(digits).kek"
    }

    public func epochs() throws -> [KEKEpoch] {
        guard FileSystem.isDirectory(directory) else { return [] }
        return try FileSystem.listDirectory(directory).compactMap { name -> KEKEpoch? in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".kek"),
                  let number = Int(name.dropFirst(6).dropLast(4)), number >= 1 else { return nil }
            return KEKEpoch(number)
        }.sorted()
    }

    public func createEpoch(_ epoch: KEKEpoch) throws {
        try FileSystem.makeDirectories(directory, mode: 0o700)
        let key = try SystemRandom.secureBytes(count: 32)
        try key.withUnsafeBytes { try FileSystem.writeAtomically($0, to: path(epoch), mode: 0o600) }
    }

    public func destroyEpoch(_ epoch: KEKEpoch) throws {
        try FileSystem.overwriteAndRemove(path(epoch))
    }

    public func wrap(_ key: SecureBytes, context: [UInt8], epoch: KEKEpoch) throws -> [UInt8] {
        try AESKeyWrap.wrap(key, using: try derived("lethe/v1/kek-wrap", context, epoch))
    }

    public func unwrap(_ wrapped: [UInt8], context: [UInt8], epoch: KEKEpoch) throws -> SecureBytes {
        try AESKeyWrap.unwrap(wrapped, using: try derived("lethe/v1/kek-wrap", context, epoch))
    }

    public func authenticate(_ message: [UInt8], epoch: KEKEpoch) throws -> [UInt8] {
        let macKey = try HKDF.deriveKey(
            inputKeyMaterial: try load(epoch), salt: [], info: Array("lethe/v1/keystore-mac".utf8), outputByteCount: 32)
        return try HMACSHA256(key: macKey).authenticationCode(for: message)
    }

    private func derived(_ label: String, _ context: [UInt8], _ epoch: KEKEpoch) throws -> SymmetricKey {
        try SymmetricKey(HKDF.deriveKey(
            inputKeyMaterial: try load(epoch), salt: [], info: Array(label.utf8) + [0] + context, outputByteCount: 32))
    }

    /// The KEK of `epoch`, read from its file after checking the file is private.
    private func load(_ epoch: KEKEpoch) throws -> SecureBytes {
        let file = path(epoch)
        guard FileSystem.exists(file) else { throw KeyError.kekMissing(epoch: epoch.number, location: directory) }
        try FileSystem.requirePrivate(file)
        var raw = try FileSystem.readFile(file, limit: 64)
        let key = SecureBytes(wiping: &raw)
        guard key.count == 32 else {
            throw KeyError.malformedKeyFile(path: file, reason: "a KEK file holds 32 bytes, this one \(key.count)")
        }
        return key
    }
}
