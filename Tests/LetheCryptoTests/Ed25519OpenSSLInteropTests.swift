import Foundation
import LetheCrypto
import Testing

/// Ed25519 keys, signatures and fingerprints exchanged with the `openssl` command (OpenSSL 3),
/// in both directions, through files in a scratch directory.
@Suite("Ed25519 interoperability with the openssl command")
struct Ed25519OpenSSLInteropTests {
    let scratch: OpenSSLCommand.ScratchDirectory
    let openssl: OpenSSLCommand
    let message = Array("Lethe destruction certificate, tenant 42, epoch 7\n".utf8)

    init() throws {
        scratch = try OpenSSLCommand.ScratchDirectory()
        openssl = OpenSSLCommand(in: scratch)
    }

    /// `openssl genpkey -algorithm ed25519`, its public half, and openssl's signature of `message`.
    private func opensslKeyAndSignature() throws {
        try scratch.write(message, to: "msg")
        try openssl.expectSuccess(["genpkey", "-algorithm", "ed25519", "-out", "k.pem"])
        try openssl.expectSuccess(["pkey", "-in", "k.pem", "-pubout", "-out", "k.pub.pem"])
        try openssl.expectSuccess(["pkeyutl", "-sign", "-rawin", "-inkey", "k.pem", "-in", "msg", "-out", "sig"])
    }

    /// A key made by Lethe, written as `priv.pem` and `pub.pem`, and its signature of `message` in `sig`.
    private func letheKeyAndSignature() throws -> Ed25519.PrivateKey {
        let key = try Ed25519.PrivateKey()
        try scratch.write(contents(of: try key.pemRepresentation), to: "priv.pem")
        try scratch.write(try key.publicKey.pemRepresentation, to: "pub.pem")
        try scratch.write(message, to: "msg")
        try scratch.write(try key.signature(for: message), to: "sig")
        return key
    }

    // MARK: openssl → Lethe

    @Test("Lethe verifies openssl's signature with openssl's public key PEM")
    func verifiesOpenSSLSignature() throws {
        try opensslKeyAndSignature()
        let publicKey = try Ed25519.PublicKey(pemRepresentation: try scratch.readText("k.pub.pem"))
        let signature = try scratch.read("sig")
        #expect(signature.count == Ed25519.signatureByteCount)
        #expect(publicKey.isValidSignature(signature, for: message))
        #expect(!publicKey.isValidSignature(signature, for: message + [0x0a]))
    }

    @Test("Lethe's signature with openssl's private key PEM is byte-for-byte openssl's")
    func signsLikeOpenSSL() throws {
        try opensslKeyAndSignature()
        let key = try Ed25519.PrivateKey(pemRepresentation: secure(try scratch.read("k.pem")))
        #expect(try key.signature(for: message) == (try scratch.read("sig")))
    }

    @Test("the public key Lethe derives from openssl's private key PEM is openssl's public key PEM")
    func derivesOpenSSLPublicKey() throws {
        try opensslKeyAndSignature()
        let key = try Ed25519.PrivateKey(pemRepresentation: secure(try scratch.read("k.pem")))
        let opensslPublic = try Ed25519.PublicKey(pemRepresentation: try scratch.readText("k.pub.pem"))
        #expect(try key.publicKey == opensslPublic)
        #expect(try key.publicKey.pemRepresentation == (try scratch.readText("k.pub.pem")))
    }

    // MARK: Lethe → openssl

    @Test("openssl verifies Lethe's signature with Lethe's public key PEM")
    func opensslVerifiesLetheSignature() throws {
        _ = try letheKeyAndSignature()
        let output = try openssl.run(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg", "-sigfile", "sig"])
        #expect(output.status == 0, "\(output)")
        #expect(output.text.contains("Signature Verified Successfully"), "\(output)")
    }

    @Test("openssl rejects Lethe's signature for a modified message")
    func opensslRejectsModifiedMessage() throws {
        _ = try letheKeyAndSignature()
        var modified = message
        modified[0] ^= 0x20
        try scratch.write(modified, to: "msg")
        let output = try openssl.run(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg", "-sigfile", "sig"])
        #expect(output.status != 0, "\(output)")
        #expect(!output.text.contains("Signature Verified Successfully"), "\(output)")
    }

    @Test("openssl reads Lethe's private key PEM")
    func opensslReadsLethePrivatePEM() throws {
        _ = try letheKeyAndSignature()
        let output = try openssl.run(["pkey", "-in", "priv.pem", "-noout"])
        #expect(output.status == 0, "\(output)")
    }

    @Test("openssl derives Lethe's public key PEM from Lethe's private key PEM")
    func opensslDerivesLethePublicKey() throws {
        let key = try letheKeyAndSignature()
        let output = try openssl.expectSuccess(["pkey", "-in", "priv.pem", "-pubout"])
        #expect(output.text == (try key.publicKey.pemRepresentation))
    }

    @Test("openssl signs with Lethe's private key PEM exactly as Lethe does")
    func opensslSignsLikeLethe() throws {
        _ = try letheKeyAndSignature()
        try openssl.expectSuccess(["pkeyutl", "-sign", "-rawin", "-inkey", "priv.pem", "-in", "msg", "-out", "openssl.sig"])
        #expect(try scratch.read("openssl.sig") == (try scratch.read("sig")))
    }

    // MARK: Fingerprint and DER

    @Test("the fingerprint is openssl's SHA-256 of the DER public key")
    func fingerprintMatchesOpenSSL() throws {
        let key = try letheKeyAndSignature()
        let output = try openssl.runPipeline([
            ["pkey", "-pubin", "-in", "pub.pem", "-outform", "DER"],
            ["dgst", "-sha256", "-r"],
        ])
        #expect(output.succeeded, "\(output)")
        // `dgst -r` prints "<hex> *stdin".
        let hex = try #require(output.text.split(separator: " ").first.map(String.init))
        let fingerprint = try key.publicKey.fingerprint
        #expect(fingerprint.hasPrefix("SHA256:"))
        #expect(String(fingerprint.dropFirst("SHA256:".count)) == hex)
    }

    @Test("the fingerprint of openssl's key is openssl's SHA-256 of its DER public key")
    func fingerprintOfOpenSSLKeyMatches() throws {
        try opensslKeyAndSignature()
        let output = try openssl.runPipeline([
            ["pkey", "-pubin", "-in", "k.pub.pem", "-outform", "DER"],
            ["dgst", "-sha256", "-r"],
        ])
        #expect(output.succeeded, "\(output)")
        let hex = try #require(output.text.split(separator: " ").first.map(String.init))
        let publicKey = try Ed25519.PublicKey(pemRepresentation: try scratch.readText("k.pub.pem"))
        #expect(try publicKey.fingerprint == "SHA256:" + hex)
    }

    @Test("derRepresentation is the DER openssl writes for the same public key")
    func derMatchesOpenSSL() throws {
        let key = try letheKeyAndSignature()
        let output = try openssl.expectSuccess(["pkey", "-pubin", "-in", "pub.pem", "-outform", "DER"])
        #expect(try key.publicKey.derRepresentation == [UInt8](output.standardOutput))
    }

    // MARK: Refusals

    @Test("an RSA private key PEM is refused by PrivateKey and PublicKey")
    func refusesRSAPrivateKey() throws {
        try openssl.expectSuccess(["genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "rsa.pem"])
        let pem = try scratch.read("rsa.pem")
        let privateError = #expect(throws: CryptoError.self) {
            try Ed25519.PrivateKey(pemRepresentation: secure(pem))
        }
        #expect(privateError?.isInvalidPEM == true)
        let publicError = #expect(throws: CryptoError.self) {
            try Ed25519.PublicKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
        }
        #expect(publicError?.isInvalidPEM == true)
    }

    @Test("an RSA public key PEM is refused by PublicKey and PrivateKey")
    func refusesRSAPublicKey() throws {
        try openssl.expectSuccess(["genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "rsa.pem"])
        try openssl.expectSuccess(["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub.pem"])
        let pem = try scratch.readText("rsa.pub.pem")
        #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let publicError = #expect(throws: CryptoError.self) {
            try Ed25519.PublicKey(pemRepresentation: pem)
        }
        #expect(publicError?.isInvalidPEM == true)
        let privateError = #expect(throws: CryptoError.self) {
            try Ed25519.PrivateKey(pemRepresentation: secure(Array(pem.utf8)))
        }
        #expect(privateError?.isInvalidPEM == true)
    }

    @Test("a PEM key of another algorithm from openssl genpkey is refused by both key types", arguments: ["x25519", "ed448"])
    func refusesOtherCurves(algorithm: String) throws {
        try openssl.expectSuccess(["genpkey", "-algorithm", algorithm, "-out", "other.pem"])
        try openssl.expectSuccess(["pkey", "-in", "other.pem", "-pubout", "-out", "other.pub.pem"])
        let privateError = #expect(throws: CryptoError.self) {
            try Ed25519.PrivateKey(pemRepresentation: secure(try scratch.read("other.pem")))
        }
        #expect(privateError?.isInvalidPEM == true)
        let publicError = #expect(throws: CryptoError.self) {
            try Ed25519.PublicKey(pemRepresentation: try scratch.readText("other.pub.pem"))
        }
        #expect(publicError?.isInvalidPEM == true)
    }

    @Test("an encrypted PKCS#8 Ed25519 PEM is refused at once, without asking for a passphrase")
    func refusesEncryptedPrivateKey() throws {
        try openssl.expectSuccess(["genpkey", "-algorithm", "ed25519", "-aes-256-cbc", "-pass", "pass:x", "-out", "enc.pem"])
        let pem = try scratch.read("enc.pem")
        #expect(String(decoding: pem, as: UTF8.self).hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        let outcome = try #require(
            withDeadline(seconds: 20) { try Ed25519.PrivateKey(pemRepresentation: secure(pem)) },
            "PrivateKey(pemRepresentation:) did not return within 20 s: it is waiting for a passphrase")
        switch outcome {
        case .success:
            Issue.record("an encrypted private key was accepted without its passphrase")
        case .failure(let error):
            #expect((error as? CryptoError)?.isInvalidPEM == true, "unexpected error: \(error)")
        }
    }

    @Test("the encrypted PEM used above is a valid key: openssl opens it with its passphrase")
    func encryptedPEMIsValidWithPassphrase() throws {
        try openssl.expectSuccess(["genpkey", "-algorithm", "ed25519", "-aes-256-cbc", "-pass", "pass:x", "-out", "enc.pem"])
        try openssl.expectSuccess(["pkey", "-in", "enc.pem", "-passin", "pass:x", "-out", "plain.pem"])
        #expect(throws: Never.self) {
            try Ed25519.PrivateKey(pemRepresentation: secure(try scratch.read("plain.pem")))
        }
    }
}
