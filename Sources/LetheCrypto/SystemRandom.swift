import CLibCrypto

/// The cryptographically secure random number generator: libcrypto's DRBG, which seeds and
/// reseeds itself from the kernel (getrandom).
///
/// Key material comes from `RAND_priv_bytes`, a DRBG instance separate from the one that
/// produces public values (salts, nonces, identifiers), so that an observer of public random
/// output learns nothing about the generator state behind the keys.
public enum SystemRandom {
    /// `count` random bytes for values that are not secret: salts, nonces, identifiers.
    public static func bytes(count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        let length = try LibCrypto.int32Length(count)
        try out.withUnsafeMutableBytes { buffer in
            try LibCrypto.check(RAND_bytes(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), length), "RAND_bytes")
        }
        return out
    }

    /// `count` random bytes of key material, in memory that is wiped on release.
    public static func secureBytes(count: Int) throws -> SecureBytes {
        let length = try LibCrypto.int32Length(count)
        return try SecureBytes(capacity: count) { buffer in
            if count > 0 {
                try LibCrypto.check(RAND_priv_bytes(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), length), "RAND_priv_bytes")
            }
            return count
        }
    }
}
