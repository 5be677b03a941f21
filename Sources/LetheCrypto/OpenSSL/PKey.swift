import CLibCrypto

/// Owns one `EVP_PKEY`, freed in `deinit`.
///
/// The key is never modified after creation, and libcrypto allows concurrent signing and
/// verification with one `EVP_PKEY` as long as each operation has its own `EVP_MD_CTX`, which
/// is why this type may be shared between threads.
final class PKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }
}

/// Owns one `EVP_MD_CTX`, freed in `deinit`.
final class DigestContext {
    let pointer: OpaquePointer

    init() throws {
        pointer = try LibCrypto.check(EVP_MD_CTX_new(), "EVP_MD_CTX_new")
    }

    deinit {
        EVP_MD_CTX_free(pointer)
    }
}
