import CLibCrypto

/// AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag.
///
/// A sealed box is `ciphertext ‖ tag`. Opening checks the tag before any plaintext is handed
/// back: on failure the decrypted bytes are wiped and `CryptoError.authenticationFailure` is
/// thrown. Callers own nonce uniqueness; Lethe guarantees it by deriving a fresh key for every
/// object (see docs/format.md).
public enum AESGCM {
    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    /// Encrypts `plaintext` and appends `ciphertext ‖ tag` to `output`.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, key: SymmetricKey, nonce: [UInt8],
        authenticating associatedData: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]
    ) throws {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: plaintext.count + tagByteCount))
        do {
            try output.withUnsafeMutableBytes { buffer in
                let body = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + plaintext.count)])
                let tag = UnsafeMutableRawBufferPointer(rebasing: buffer[(start + plaintext.count)...])
                let context = try begin(encrypting: true, key: key, nonce: nonce, associatedData: associatedData)
                try update(context, input: plaintext, output: body)
                var finalLength: Int32 = 0
                try LibCrypto.check(EVP_EncryptFinal_ex(context.pointer, nil, &finalLength), "EVP_EncryptFinal_ex")
                try LibCrypto.check(
                    EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_GET_TAG, Int32(tagByteCount), tag.baseAddress),
                    "EVP_CTRL_GCM_GET_TAG")
            }
        } catch {
            output.removeSubrange(start...)
            throw error
        }
    }

    /// `ciphertext ‖ tag` of `plaintext`.
    public static func seal(
        _ plaintext: [UInt8], key: SymmetricKey, nonce: [UInt8], authenticating associatedData: [UInt8]
    ) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(plaintext.count + tagByteCount)
        try plaintext.withUnsafeBytes { pt in
            try associatedData.withUnsafeBytes { ad in
                try seal(pt, key: key, nonce: nonce, authenticating: ad, appendingTo: &output)
            }
        }
        return output
    }

    /// The plaintext of `sealed` (`ciphertext ‖ tag`), or `authenticationFailure`.
    public static func open(
        _ sealed: UnsafeRawBufferPointer, key: SymmetricKey, nonce: [UInt8],
        authenticating associatedData: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        guard sealed.count >= tagByteCount else {
            throw CryptoError.invalidInput("sealed box of \(sealed.count) bytes is shorter than its tag")
        }
        let bodyCount = sealed.count - tagByteCount
        var plaintext = [UInt8](repeating: 0, count: bodyCount)
        let context = try begin(encrypting: false, key: key, nonce: nonce, associatedData: associatedData)
        try plaintext.withUnsafeMutableBytes { out in
            try update(context, input: UnsafeRawBufferPointer(rebasing: sealed[0..<bodyCount]), output: out)
        }
        var tag = Array(sealed[bodyCount...])
        try tag.withUnsafeMutableBytes { tagBuffer in
            try LibCrypto.check(
                EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_SET_TAG, Int32(tagByteCount), tagBuffer.baseAddress),
                "EVP_CTRL_GCM_SET_TAG")
        }
        var finalLength: Int32 = 0
        guard EVP_DecryptFinal_ex(context.pointer, nil, &finalLength) == 1 else {
            LibCrypto.clearErrors()
            plaintext.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
            throw CryptoError.authenticationFailure
        }
        return plaintext
    }

    public static func open(
        _ sealed: [UInt8], key: SymmetricKey, nonce: [UInt8], authenticating associatedData: [UInt8]
    ) throws -> [UInt8] {
        try sealed.withUnsafeBytes { box in
            try associatedData.withUnsafeBytes { ad in
                try open(box, key: key, nonce: nonce, authenticating: ad)
            }
        }
    }

    /// A context keyed, nonced, and fed the associated data.
    private static func begin(
        encrypting: Bool, key: SymmetricKey, nonce: [UInt8], associatedData: UnsafeRawBufferPointer
    ) throws -> CipherContext {
        guard key.byteCount == keyByteCount else { throw CryptoError.invalidKeySize(key.byteCount) }
        guard nonce.count == nonceByteCount else {
            throw CryptoError.invalidInput("AES-GCM nonce must be \(nonceByteCount) bytes, not \(nonce.count)")
        }
        let context = try CipherContext()
        let initialize = encrypting ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        try LibCrypto.check(initialize(context.pointer, EVP_aes_256_gcm(), nil, nil, nil), "EVP_CipherInit_ex")
        try key.withUnsafeBytes { keyBytes in
            try LibCrypto.check(
                initialize(context.pointer, nil, nil, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), nonce),
                "EVP_CipherInit_ex")
        }
        if associatedData.count > 0 {
            var ignored: Int32 = 0
            let length = try LibCrypto.int32Length(associatedData.count)
            let update = encrypting ? EVP_EncryptUpdate : EVP_DecryptUpdate
            try LibCrypto.check(
                update(context.pointer, nil, &ignored, associatedData.baseAddress!.assumingMemoryBound(to: UInt8.self), length),
                "EVP_CipherUpdate(aad)")
        }
        return context
    }

    private static func update(_ context: CipherContext, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) throws {
        guard input.count > 0 else { return }
        var written: Int32 = 0
        let length = try LibCrypto.int32Length(input.count)
        try LibCrypto.check(
            EVP_CipherUpdate(
                context.pointer, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &written,
                input.baseAddress!.assumingMemoryBound(to: UInt8.self), length),
            "EVP_CipherUpdate")
        precondition(written == length, "AES-GCM is a stream mode: every input byte yields one output byte")
    }
}
