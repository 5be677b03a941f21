import CLibCrypto

/// Owns one `EVP_CIPHER_CTX`, freed (and wiped by libcrypto) in `deinit`.
///
/// A context holds an expanded key schedule, so it lives only as long as one operation and is
/// never shared between threads.
final class CipherContext {
    let pointer: OpaquePointer

    init() throws {
        pointer = try LibCrypto.check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")
    }

    deinit {
        EVP_CIPHER_CTX_free(pointer)
    }
}
