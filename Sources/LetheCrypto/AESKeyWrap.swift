import CLibCrypto

/// AES key wrap with padding (RFC 5649), the form in which tenant DEKs are stored under a KEK.
///
/// Unwrapping checks the RFC 5649 integrity value; a wrong KEK or a modified wrapped key
/// yields `CryptoError.authenticationFailure` and no key bytes.
public enum AESKeyWrap {
    /// Wraps `key` (1 byte or more) under `kek` (128, 192 or 256 bits).
    public static func wrap(_ key: SecureBytes, using kek: SymmetricKey) throws -> [UInt8] {
        guard key.count > 0 else { throw CryptoError.invalidInput("cannot wrap an empty key") }
        let context = try begin(encrypting: true, kek: kek)
        let capacity = 8 + (key.count + 7) / 8 * 8
        var wrapped = [UInt8](repeating: 0, count: capacity + 8)
        var written: Int32 = 0
        try key.withUnsafeBytes { keyBytes in
            try wrapped.withUnsafeMutableBufferPointer { out in
                try LibCrypto.check(
                    EVP_EncryptUpdate(
                        context.pointer, out.baseAddress, &written,
                        keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self), try LibCrypto.int32Length(keyBytes.count)),
                    "EVP_EncryptUpdate(wrap)")
            }
        }
        wrapped.removeSubrange(Int(written)...)
        return wrapped
    }

    /// Unwraps a key wrapped by `wrap(_:using:)` under the same `kek`.
    public static func unwrap(_ wrapped: [UInt8], using kek: SymmetricKey) throws -> SecureBytes {
        guard wrapped.count >= 16, wrapped.count % 8 == 0 else {
            throw CryptoError.invalidInput("a wrapped key is a multiple of 8 bytes and at least 16, not \(wrapped.count)")
        }
        let context = try begin(encrypting: false, kek: kek)
        return try SecureBytes(capacity: wrapped.count) { out in
            var written: Int32 = 0
            let ok = EVP_DecryptUpdate(
                context.pointer, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &written,
                wrapped, try LibCrypto.int32Length(wrapped.count))
            guard ok == 1, written > 0 else {
                LibCrypto.clearErrors()
                throw CryptoError.authenticationFailure
            }
            return Int(written)
        }
    }

    private static func begin(encrypting: Bool, kek: SymmetricKey) throws -> CipherContext {
        let cipher: OpaquePointer?
        switch kek.byteCount {
        case 16: cipher = EVP_aes_128_wrap_pad()
        case 24: cipher = EVP_aes_192_wrap_pad()
        default: cipher = EVP_aes_256_wrap_pad()
        }
        let context = try CipherContext()
        EVP_CIPHER_CTX_set_flags(context.pointer, Int32(EVP_CIPHER_CTX_FLAG_WRAP_ALLOW))
        let initialize = encrypting ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        try kek.withUnsafeBytes { kekBytes in
            try LibCrypto.check(
                initialize(context.pointer, cipher, nil, kekBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), nil),
                "EVP_CipherInit_ex(wrap)")
        }
        return context
    }
}
