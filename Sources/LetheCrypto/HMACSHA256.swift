import CLibCrypto

/// HMAC-SHA256 (RFC 2104) under one key, through libcrypto's `EVP_MAC` interface.
///
/// The key is scheduled once, in `init`, into a template context; each message is
/// authenticated on a duplicate of it. The template is never modified after `init`, so one
/// instance may be used from several threads at once.
public final class HMACSHA256: @unchecked Sendable {
    public static let byteCount = 32

    private let template: OpaquePointer

    /// Prepares HMAC-SHA256 under `key` (any length, as RFC 2104 allows).
    public init(key: SecureBytes) throws {
        let mac = try LibCrypto.check(EVP_MAC_fetch(nil, "HMAC", nil), "EVP_MAC_fetch")
        defer { EVP_MAC_free(mac) }
        let context = try LibCrypto.check(EVP_MAC_CTX_new(mac), "EVP_MAC_CTX_new")
        do {
            try "digest".withCString { name in
                var digest = Array("SHA256".utf8CString)
                try digest.withUnsafeMutableBufferPointer { value in
                    let params = [
                        OSSL_PARAM_construct_utf8_string(name, value.baseAddress, 0),
                        OSSL_PARAM_construct_end(),
                    ]
                    try key.withUnsafeBytes { keyBytes in
                        try LibCrypto.check(
                            EVP_MAC_init(context, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), keyBytes.count, params),
                            "EVP_MAC_init")
                    }
                }
            }
        } catch {
            EVP_MAC_CTX_free(context)
            throw error
        }
        template = context
    }

    deinit {
        EVP_MAC_CTX_free(template)
    }

    /// The 32-byte MAC of `message`.
    public func authenticationCode(for message: UnsafeRawBufferPointer) throws -> [UInt8] {
        let context = try LibCrypto.check(EVP_MAC_CTX_dup(template), "EVP_MAC_CTX_dup")
        defer { EVP_MAC_CTX_free(context) }
        if message.count > 0 {
            try LibCrypto.check(
                EVP_MAC_update(context, message.baseAddress!.assumingMemoryBound(to: UInt8.self), message.count),
                "EVP_MAC_update")
        }
        var mac = [UInt8](repeating: 0, count: HMACSHA256.byteCount)
        var length = 0
        try mac.withUnsafeMutableBufferPointer { out in
            try LibCrypto.check(EVP_MAC_final(context, out.baseAddress, &length, out.count), "EVP_MAC_final")
        }
        precondition(length == HMACSHA256.byteCount)
        return mac
    }

    public func authenticationCode(for message: [UInt8]) throws -> [UInt8] {
        try message.withUnsafeBytes { try authenticationCode(for: $0) }
    }
}
