import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// `lethe.json` carries the service's signature, and the key directory says which installation
/// it belongs to, because the file decides things H (who writes the home) must not: where the
/// keys and the store are, which command runs when data leaves, where metrics are written,
/// how many snapshots retention keeps. An edit by hand, or a file copied from another
/// installation, is an integrity error; `lethe config set` is the way to change it.
///
///     signature = Ed25519(service key, "lethe/v1/signed-object" 0x00 "configuration" 0x00 CANONICAL)
///     <keys>/installation = "<installationID>\n"
///     <keys>/configuration-<first 16 hex of SHA-256(home path)> = "<SHA-256 of CANONICAL>\n"
///
/// The last anchors, per home, the configuration that home last saved: a signed but older
/// lethe.json put back (from before a notification command was removed, say) is refused too.
/// where CANONICAL is the configuration's JSON without the signature, keys sorted, no
/// whitespace. A configuration written before signatures existed is adopted (signed, and the
/// key directory bound to it) the first time it is read, once: after that, an unsigned one is
/// refused like a forged one.
package enum ConfigurationSeal {
    static let context = "configuration"
    static let bindingName = "installation"

    /// Whether `signature` (base64) is `publicKey`'s over `configuration`.
    package static func isSigned(_ configuration: Configuration, signature: String, by publicKey: Ed25519.PublicKey) throws -> Bool {
        guard let raw = Data(base64Encoded: signature).map(Array.init) else { return false }
        return publicKey.isValidSignature(raw, for: SignedObject.signedBytes(context: context, document: try canonicalBytes(configuration)))
    }

    package static func canonicalBytes(_ configuration: Configuration) throws -> [UInt8] {
        var unsigned = configuration
        unsigned.signature = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(unsigned))
    }

    /// `configuration` with the signature of `key` over it.
    package static func signed(_ configuration: Configuration, key: ServiceSigningKey) throws -> Configuration {
        var signed = configuration
        signed.signature = Data(try key.sign(SignedObject.signedBytes(context: context, document: canonicalBytes(configuration))))
            .base64EncodedString()
        return signed
    }

    static func anchorName(home: String) throws -> String {
        "configuration-" + Hex.encode(try SHA256.hash(Array(home.utf8)).prefix(8))
    }

    static func digest(_ configuration: Configuration) throws -> String {
        Hex.encode(try SHA256.hash(try canonicalBytes(configuration)))
    }

    /// Anchors the configurations `home` may hold: one, or two while a save replaces one by
    /// the other (so that a crash between writing lethe.json and its anchor is no rollback).
    static func anchor(_ configurations: [Configuration], home: String, keysDirectory: String) throws {
        let lines = try configurations.map { try digest($0) + "\n" }.joined()
        try Array(lines.utf8).withUnsafeBytes {
            try KeyDirectory(keysDirectory).write($0, to: try anchorName(home: home), mode: 0o600)
        }
    }

    /// Records in the key directory which installation it belongs to.
    static func bind(_ configuration: Configuration, keysDirectory: String) throws {
        try Array("\(configuration.installationID)\n".utf8).withUnsafeBytes {
            try KeyDirectory(keysDirectory).write($0, to: bindingName, mode: 0o600)
        }
    }

    /// Throws unless `configuration`, read from `path`, is signed by the key of the directory
    /// it names and that directory is bound to it. Returns a configuration to write back when
    /// an unsigned one from before signatures was adopted.
    static func check(_ configuration: Configuration, path: String, home: String, keysDirectory: String) throws -> Configuration? {
        let keys = try KeyDirectory(keysDirectory)
        let bound = try keys.contains(bindingName)
            ? String(decoding: try keys.read(bindingName, limit: 256), as: UTF8.self) : nil
        let signing = try ServiceSigningKey.load(from: keysDirectory)
        guard let signature = configuration.signature else {
            guard bound == nil else {
                throw LetheError.integrity("\(path) carries no signature, but \(keysDirectory) belongs to a signed configuration (edited outside `lethe config set`)")
            }
            let adopted = try signed(configuration, key: signing)
            try bind(configuration, keysDirectory: keysDirectory)
            try anchor([adopted], home: home, keysDirectory: keysDirectory)
            return adopted
        }
        guard bound == "\(configuration.installationID)\n" else {
            throw LetheError.integrity(
                "\(path) names the key directory \(keysDirectory), which belongs to another installation (or to none)")
        }
        guard try isSigned(configuration, signature: signature, by: signing.publicKey) else {
            throw LetheError.integrity(
                "\(path) was changed outside `lethe config set` (its signature does not verify); restore it, or set each value again with `lethe config set`")
        }
        let name = try anchorName(home: home)
        if try keys.contains(name) {
            let accepted = String(decoding: try keys.read(name, limit: 512), as: UTF8.self).split(separator: "\n").map(String.init)
            guard accepted.contains(try digest(configuration)) else {
                throw LetheError.integrity(
                    "\(path) is a genuine but older configuration than the one this home last saved (put back from a copy)")
            }
        }
        // No anchor: a home moved or copied to this path, which is anchored at its next save.
        // Reading never writes one: the key directory read may not be the one the home keeps.
        return nil
    }
}
