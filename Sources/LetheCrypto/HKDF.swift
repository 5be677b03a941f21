import CLibCrypto

/// HKDF with SHA-256 (RFC 5869): extract-then-expand, as one call.
///
/// Lethe derives every subkey of a tenant's DEK (encryption, blob ids, chunker) and every
/// per-object key this way, each under its own `info` label, so that no two uses ever share a
/// key.
public enum HKDF {
    /// Derives `outputByteCount` bytes (at most 255 × 32) from `inputKeyMaterial`.
    public static func deriveKey(
        inputKeyMaterial: SecureBytes, salt: [UInt8], info: [UInt8], outputByteCount: Int
    ) throws -> SecureBytes {
        guard outputByteCount > 0, outputByteCount <= 255 * 32 else {
            throw CryptoError.invalidInput("HKDF-SHA256 output must be 1 to 8160 bytes, not \(outputByteCount)")
        }
        let context = try LibCrypto.check(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil), "EVP_PKEY_CTX_new_id")
        defer { EVP_PKEY_CTX_free(context) }
        try LibCrypto.check(EVP_PKEY_derive_init(context), "EVP_PKEY_derive_init")
        try LibCrypto.check(EVP_PKEY_CTX_set_hkdf_md(context, EVP_sha256()), "EVP_PKEY_CTX_set_hkdf_md")
        // An empty salt means "a string of HashLen zeros" (RFC 5869 §2.2); libcrypto does that
        // itself when no salt is set.
        if !salt.isEmpty {
            try LibCrypto.check(
                EVP_PKEY_CTX_set1_hkdf_salt(context, salt, try LibCrypto.int32Length(salt.count)),
                "EVP_PKEY_CTX_set1_hkdf_salt")
        }
        try inputKeyMaterial.withUnsafeBytes { ikm in
            try LibCrypto.check(
                EVP_PKEY_CTX_set1_hkdf_key(
                    context, ikm.baseAddress?.assumingMemoryBound(to: UInt8.self), try LibCrypto.int32Length(ikm.count)),
                "EVP_PKEY_CTX_set1_hkdf_key")
        }
        if !info.isEmpty {
            try LibCrypto.check(
                EVP_PKEY_CTX_add1_hkdf_info(context, info, try LibCrypto.int32Length(info.count)),
                "EVP_PKEY_CTX_add1_hkdf_info")
        }
        return try SecureBytes(capacity: outputByteCount) { out in
            var length = outputByteCount
            try LibCrypto.check(
                EVP_PKEY_derive(context, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length), "EVP_PKEY_derive")
            return length
        }
    }
}
