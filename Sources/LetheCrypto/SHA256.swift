import CLibCrypto

/// SHA-256 (FIPS 180-4), one-shot or streaming.
///
/// A hasher owns its `EVP_MD_CTX`; `finalize()` may be called once.
public final class SHA256 {
    public static let byteCount = 32

    private let context: DigestContext
    private var finalized = false

    public init() throws {
        context = try DigestContext()
        try LibCrypto.check(EVP_DigestInit_ex(context.pointer, EVP_sha256(), nil), "EVP_DigestInit_ex")
    }

    /// Feeds more input.
    public func update(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finalized, "SHA256.update after finalize")
        guard bytes.count > 0 else { return }
        try LibCrypto.check(EVP_DigestUpdate(context.pointer, bytes.baseAddress, bytes.count), "EVP_DigestUpdate")
    }

    public func update(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try update($0) }
    }

    /// The digest of everything fed so far.
    public func finalize() throws -> [UInt8] {
        precondition(!finalized, "SHA256.finalize called twice")
        finalized = true
        var digest = [UInt8](repeating: 0, count: SHA256.byteCount)
        var length: UInt32 = 0
        try digest.withUnsafeMutableBufferPointer { out in
            try LibCrypto.check(EVP_DigestFinal_ex(context.pointer, out.baseAddress, &length), "EVP_DigestFinal_ex")
        }
        precondition(length == UInt32(SHA256.byteCount))
        return digest
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
        let hasher = try SHA256()
        try hasher.update(bytes)
        return try hasher.finalize()
    }

    public static func hash(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try hash($0) }
    }
}
