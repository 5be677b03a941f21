import Glibc
import LetheCrypto
import LetheStore

/// The default KEK provider: one file of 32 random bytes per epoch,
/// `<keys>/kek/epoch-000001.kek`, in a directory of its own that is 0700.
///
/// Every access goes through `KeyDirectory`: the directory and each epoch file are checked on
/// their open descriptors (owned by the user, no group or other bits, no symbolic link, one
/// hard link) and refused otherwise. Destroying an epoch overwrites the file with zeros,
/// fsyncs, unlinks it and fsyncs the directory; a link in its place is removed, never
/// written through.
///
/// Wrapping uses a key derived per use, `HKDF-SHA256(KEK, info: "lethe/v1/kek-wrap" ‖ context)`,
/// then AES key wrap with padding (RFC 5649): the context (tenant, DEK id, epoch) is bound
/// without RFC 5649 having associated data of its own.
public struct FileKEKProvider: KEKProvider {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var location: String { directory }

    /// `epoch-NNNNNN.kek`, at least six digits.
    static func fileName(_ epoch: KEKEpoch) -> String {
        let digits = String(epoch.number)
        return "epoch-\(String(repeating: "0", count: max(0, 6 - digits.count)))\(digits).kek"
    }

    /// The epochs with a file, of any kind, under exactly their own name (a link counts, so
    /// that it is destroyed, or refused when read). No directory yet means no epochs.
    public func epochs() throws -> [KEKEpoch] {
        let kek: KeyDirectory
        do {
            kek = try KeyDirectory(directory)
        } catch let error as SystemError where error.isNotFound {
            return []
        }
        return try kek.names().compactMap { name -> KEKEpoch? in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".kek"),
                  let number = Int(name.dropFirst(6).dropLast(4)), number >= 1,
                  Self.fileName(KEKEpoch(number)) == name else { return nil }
            return KEKEpoch(number)
        }.sorted()
    }

    public func createEpoch(_ epoch: KEKEpoch) throws {
        let kek = try KeyDirectory(directory, opening: .creatingIfMissing)
        let key = try SystemRandom.secureBytes(count: 32)
        try key.withUnsafeBytes { try kek.write($0, to: Self.fileName(epoch)) }
    }

    public func destroyEpoch(_ epoch: KEKEpoch) throws {
        let kek: KeyDirectory
        do {
            kek = try KeyDirectory(directory)
        } catch let error as SystemError where error.isNotFound {
            return
        }
        try kek.destroy(Self.fileName(epoch))
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

    /// The KEK of `epoch`, read straight into wiped memory from its checked file.
    private func load(_ epoch: KEKEpoch) throws -> SecureBytes {
        let key: SecureBytes
        do {
            key = try KeyDirectory(directory).readSecret(Self.fileName(epoch), limit: 64)
        } catch let error as SystemError where error.isNotFound {
            throw KeyError.kekMissing(epoch: epoch.number, location: directory)
        }
        guard key.count == 32 else {
            throw KeyError.malformedKeyFile(
                path: "\(directory)/\(Self.fileName(epoch))", reason: "a KEK file holds 32 bytes, this one \(key.count)")
        }
        return key
    }
}
