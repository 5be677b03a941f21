/// A secret key for AES (128, 192 or 256 bits), held in wiped-on-release memory.
///
/// Lethe itself only uses 256-bit keys; the shorter sizes exist so that the published AES key
/// wrap vectors (RFC 5649 uses a 192-bit KEK) can be checked against the same code.
public struct SymmetricKey: Sendable {
    let bytes: SecureBytes

    /// The key's length in bytes.
    public var byteCount: Int { bytes.count }

    /// Takes ownership of `bytes` as a key; they must be 16, 24 or 32 bytes long.
    public init(_ bytes: SecureBytes) throws {
        guard [16, 24, 32].contains(bytes.count) else { throw CryptoError.invalidKeySize(bytes.count) }
        self.bytes = bytes
    }

    /// A fresh 256-bit key from the CSPRNG.
    public static func generate() throws -> SymmetricKey {
        try SymmetricKey(SystemRandom.secureBytes(count: 32))
    }

    /// Read access to the raw key, for a primitive that needs it. The pointer must not escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }
}
