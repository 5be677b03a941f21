import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// A person whose signature can authorize a destruction, with their Ed25519 public key.
public struct Authorizer: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable, CaseIterable {
        case dpo
        case officer
    }

    public var name: String
    public var role: Role
    /// SubjectPublicKeyInfo PEM, as `openssl pkey -pubout` writes it.
    public var publicKey: String
    public var fingerprint: String
    public var added: String
    public var addedBy: String
    /// Set when the authorizer was removed; the entry stays, so past approvals stay checkable.
    public var removed: String?
    public var removedBy: String?
    public var removalReason: String?

    public var isActive: Bool { removed == nil }

    public func key() throws -> Ed25519.PublicKey {
        try Ed25519.PublicKey(pemRepresentation: publicKey)
    }

    static func validate(name: String) throws {
        guard (1...64).contains(name.count),
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) }) else {
            throw LetheError.usage("authorizer name \"\(name)\" must be 1 to 64 characters of letters, digits, '-', '_', '.', '@'")
        }
    }
}

/// The registered authorizers, kept in the store as numbered versions
/// `authorizers/registry-NNNNNN.json`, each signed by the service key (`.sig` beside it), so
/// that a key slipped into the store by hand is refused. A change writes the next version (the
/// signature first, then the document); the newest version that has both is the registry, so
/// a crash mid-change leaves the previous version in force. Removal marks an entry removed;
/// nothing is ever erased, and every earlier version stays in the store as history.
public struct AuthorizerRegistry: Sendable {
    let installation: Installation
    static let prefix = try! ObjectKey("authorizers")

    public init(_ installation: Installation) {
        self.installation = installation
    }

    static func documentKey(_ version: Int) -> ObjectKey { try! prefix.appending("registry-\(padded(version)).json") }
    static func signatureKey(_ version: Int) -> ObjectKey { try! prefix.appending("registry-\(padded(version)).sig") }

    private static func padded(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The newest complete version number, or 0 when there is none.
    private func currentVersion() throws -> Int {
        let names = Set(try installation.store.children(of: AuthorizerRegistry.prefix))
        let versions = names.compactMap { name -> Int? in
            guard name.hasPrefix("registry-"), name.hasSuffix(".json") else { return nil }
            return Int(name.dropFirst(9).dropLast(5))
        }
        return versions.filter { names.contains(AuthorizerRegistry.signatureKey($0).name) }.max() ?? 0
    }

    public func all() throws -> [Authorizer] {
        try load().authorizers
    }

    private func load() throws -> (version: Int, authorizers: [Authorizer]) {
        let version = try currentVersion()
        guard version > 0 else { return (0, []) }
        let document = AuthorizerRegistry.documentKey(version)
        let bytes = try installation.store.get(document)
        let signature = try installation.store.get(AuthorizerRegistry.signatureKey(version))
        guard try installation.signingKey().publicKey.isValidSignature(signature, for: bytes) else {
            throw LetheError.integrity("\(document) is not signed by this service's key (edited outside Lethe)")
        }
        do {
            return (version, try JSONDecoder().decode([Authorizer].self, from: Data(bytes)))
        } catch {
            throw LetheError.integrity("\(document) does not parse")
        }
    }

    public func add(name: String, role: Authorizer.Role, publicKeyPEM: String) throws -> Authorizer {
        try Authorizer.validate(name: name)
        let key: Ed25519.PublicKey
        do {
            key = try Ed25519.PublicKey(pemRepresentation: publicKeyPEM)
        } catch let error as CryptoError {
            throw LetheError.usage("the public key of \(name) is not usable: \(error)")
        }
        var (version, authorizers) = try load()
        if let existing = authorizers.first(where: { $0.name == name }) {
            throw LetheError.usage("authorizer \(name) already exists" + (existing.isActive ? "" : " (removed; choose another name)"))
        }
        let fingerprint = try key.fingerprint
        if let holder = authorizers.first(where: { $0.fingerprint == fingerprint && $0.isActive }) {
            throw LetheError.usage("that public key is already registered to \(holder.name)")
        }
        let authorizer = Authorizer(
            name: name, role: role, publicKey: try key.pemRepresentation, fingerprint: fingerprint,
            added: installation.nowText, addedBy: installation.actor)
        authorizers.append(authorizer)
        version += 1
        try save(authorizers, version: version)
        try AuditTrail(installation).record("authorizer.add", tenant: nil, details: [
            "authorizer": name, "role": role.rawValue, "fingerprint": fingerprint,
        ])
        return authorizer
    }

    public func remove(name: String, reason: String) throws -> Authorizer {
        var (version, authorizers) = try load()
        guard let index = authorizers.firstIndex(where: { $0.name == name }) else {
            throw LetheError.usage("unknown authorizer \(name)")
        }
        guard authorizers[index].isActive else { throw LetheError.usage("authorizer \(name) was already removed") }
        authorizers[index].removed = installation.nowText
        authorizers[index].removedBy = installation.actor
        authorizers[index].removalReason = reason
        version += 1
        try save(authorizers, version: version)
        try AuditTrail(installation).record("authorizer.remove", tenant: nil, details: [
            "authorizer": name, "fingerprint": authorizers[index].fingerprint, "reason": reason,
        ])
        return authorizers[index]
    }

    private func save(_ authorizers: [Authorizer], version: Int) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes = Array(try encoder.encode(authorizers))
        try installation.store.put(AuthorizerRegistry.signatureKey(version), try installation.signingKey().sign(bytes))
        try installation.store.put(AuthorizerRegistry.documentKey(version), bytes)
    }
}
