import CLibCrypto

/// Comparison of secrets (MACs, key commitments, wrapped keys) without an early exit that
/// would leak, through timing, how many leading bytes matched.
public enum ConstantTime {
    /// True when both byte strings are equal. The running time depends on the length only;
    /// lengths are not treated as secret.
    public static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
    }

    /// True when both arrays are equal, in constant time for their length.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in equals(pa, pb) } }
    }
}
