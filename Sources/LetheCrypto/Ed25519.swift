import CLibCrypto

/// Ed25519 signatures (RFC 8032), and the PEM forms the `openssl` command reads and writes:
/// PKCS#8 for private keys, SubjectPublicKeyInfo for public keys.
///
/// Private and public keys are distinct types, so a public key can never be handed to an API
/// that signs. Raw bytes cross the boundary only in `rawRepresentation` initialisers and
/// properties; private-key bytes and PEM only ever travel in `SecureBytes`.
public enum Ed25519 {
    public static let signatureByteCount = 64
    public static let keyByteCount = 32

    public struct PrivateKey: Sendable {
        let key: PKey

        /// A new key pair from the CSPRNG.
        public init() throws {
            let context = try LibCrypto.check(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil), "EVP_PKEY_CTX_new_id")
            defer { EVP_PKEY_CTX_free(context) }
            try LibCrypto.check(EVP_PKEY_keygen_init(context), "EVP_PKEY_keygen_init")
            var generated: OpaquePointer?
            try LibCrypto.check(EVP_PKEY_keygen(context, &generated), "EVP_PKEY_keygen")
            key = PKey(taking: try LibCrypto.check(generated, "EVP_PKEY_keygen"))
        }

        /// The key whose 32-byte seed is `rawRepresentation` (RFC 8032's "secret key").
        public init(rawRepresentation seed: SecureBytes) throws {
            guard seed.count == Ed25519.keyByteCount else { throw CryptoError.invalidKeySize(seed.count) }
            let pointer = try seed.withUnsafeBytes { raw in
                try LibCrypto.check(
                    EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count),
                    "EVP_PKEY_new_raw_private_key")
            }
            key = PKey(taking: pointer)
        }

        /// The key in a PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`), as
        /// `openssl genpkey -algorithm ed25519` writes it. Encrypted PEM is refused rather than
        /// prompting for a passphrase.
        public init(pemRepresentation pem: SecureBytes) throws {
            let bio = try pem.withUnsafeBytes { try MemoryBIO(copying: $0) }
            guard let pointer = PEM_read_bio_PrivateKey(bio.pointer, nil, { _, _, _, _ in 0 }, nil) else {
                LibCrypto.clearErrors()
                throw CryptoError.invalidPEM("not an unencrypted PKCS#8 private key")
            }
            key = PKey(taking: pointer)
            guard EVP_PKEY_get_id(pointer) == EVP_PKEY_ED25519 else {
                throw CryptoError.invalidPEM("the private key is not an Ed25519 key")
            }
        }

        /// The 32-byte seed.
        public var rawRepresentation: SecureBytes {
            get throws {
                try SecureBytes(capacity: Ed25519.keyByteCount) { out in
                    var length = out.count
                    try LibCrypto.check(
                        EVP_PKEY_get_raw_private_key(key.pointer, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length),
                        "EVP_PKEY_get_raw_private_key")
                    return length
                }
            }
        }

        /// The PKCS#8 PEM document for this key.
        public var pemRepresentation: SecureBytes {
            get throws {
                let bio = try MemoryBIO()
                try LibCrypto.check(
                    PEM_write_bio_PrivateKey(bio.pointer, key.pointer, nil, nil, 0, nil, nil), "PEM_write_bio_PrivateKey")
                return try SecureBytes(capacity: bio.pending) { out in
                    try bio.read(into: out)
                    return out.count
                }
            }
        }

        public var publicKey: PublicKey {
            get throws {
                var raw = [UInt8](repeating: 0, count: Ed25519.keyByteCount)
                var length = raw.count
                try LibCrypto.check(EVP_PKEY_get_raw_public_key(key.pointer, &raw, &length), "EVP_PKEY_get_raw_public_key")
                return try PublicKey(rawRepresentation: raw)
            }
        }

        /// The 64-byte signature of `message` (pure Ed25519, no pre-hashing: what
        /// `openssl pkeyutl -sign -rawin` makes).
        public func signature(for message: UnsafeRawBufferPointer) throws -> [UInt8] {
            let context = try DigestContext()
            try LibCrypto.check(EVP_DigestSignInit(context.pointer, nil, nil, nil, key.pointer), "EVP_DigestSignInit")
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureByteCount)
            var length = signature.count
            try LibCrypto.check(
                EVP_DigestSign(
                    context.pointer, &signature, &length,
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count),
                "EVP_DigestSign")
            return signature
        }

        public func signature(for message: [UInt8]) throws -> [UInt8] {
            try message.withUnsafeBytes { try signature(for: $0) }
        }
    }

    public struct PublicKey: Sendable, Equatable {
        let key: PKey
        /// The 32-byte encoded point (RFC 8032 §5.1.5).
        public let rawRepresentation: [UInt8]

        public init(rawRepresentation raw: [UInt8]) throws {
            guard raw.count == Ed25519.keyByteCount else { throw CryptoError.invalidKeySize(raw.count) }
            key = PKey(taking: try LibCrypto.check(
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, raw.count), "EVP_PKEY_new_raw_public_key"))
            rawRepresentation = raw
        }

        /// The key in a SubjectPublicKeyInfo PEM document (`-----BEGIN PUBLIC KEY-----`), as
        /// `openssl pkey -pubout` writes it.
        public init(pemRepresentation pem: String) throws {
            let bio = try Array(pem.utf8).withUnsafeBytes { try MemoryBIO(copying: $0) }
            guard let pointer = PEM_read_bio_PUBKEY(bio.pointer, nil, { _, _, _, _ in 0 }, nil) else {
                LibCrypto.clearErrors()
                throw CryptoError.invalidPEM("not a PEM public key (-----BEGIN PUBLIC KEY-----)")
            }
            let parsed = PKey(taking: pointer)
            guard EVP_PKEY_get_id(pointer) == EVP_PKEY_ED25519 else {
                throw CryptoError.invalidPEM("the public key is not an Ed25519 key")
            }
            var raw = [UInt8](repeating: 0, count: Ed25519.keyByteCount)
            var length = raw.count
            try LibCrypto.check(EVP_PKEY_get_raw_public_key(parsed.pointer, &raw, &length), "EVP_PKEY_get_raw_public_key")
            key = parsed
            rawRepresentation = raw
        }

        /// The DER SubjectPublicKeyInfo (what `openssl pkey -pubin -outform DER` prints).
        public var derRepresentation: [UInt8] {
            get throws {
                let length = i2d_PUBKEY(key.pointer, nil)
                guard length > 0 else { throw LibCrypto.failure("i2d_PUBKEY") }
                var der = [UInt8](repeating: 0, count: Int(length))
                try der.withUnsafeMutableBufferPointer { buffer in
                    var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
                    guard i2d_PUBKEY(key.pointer, &cursor) == length else { throw LibCrypto.failure("i2d_PUBKEY") }
                }
                return der
            }
        }

        /// The PEM SubjectPublicKeyInfo document.
        public var pemRepresentation: String {
            get throws {
                let bio = try MemoryBIO()
                try LibCrypto.check(PEM_write_bio_PUBKEY(bio.pointer, key.pointer), "PEM_write_bio_PUBKEY")
                var text = [UInt8](repeating: 0, count: bio.pending)
                try text.withUnsafeMutableBytes { try bio.read(into: $0) }
                return String(decoding: text, as: UTF8.self)
            }
        }

        /// `SHA256:` and the hex SHA-256 of the DER SubjectPublicKeyInfo: the value
        /// `openssl pkey -pubin -in KEY.pem -outform DER | openssl dgst -sha256` prints.
        public var fingerprint: String {
            get throws { "SHA256:" + Hex.encode(try SHA256.hash(derRepresentation)) }
        }

        /// True when `signature` is this key's Ed25519 signature of `message`.
        public func isValidSignature(_ signature: [UInt8], for message: UnsafeRawBufferPointer) -> Bool {
            guard signature.count == Ed25519.signatureByteCount, let context = try? DigestContext() else { return false }
            guard EVP_DigestVerifyInit(context.pointer, nil, nil, nil, key.pointer) == 1 else {
                LibCrypto.clearErrors()
                return false
            }
            let result = EVP_DigestVerify(
                context.pointer, signature, signature.count,
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
            LibCrypto.clearErrors()
            return result == 1
        }

        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            message.withUnsafeBytes { isValidSignature(signature, for: $0) }
        }

        public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
            lhs.rawRepresentation == rhs.rawRepresentation
        }
    }
}
