import Foundation
import LetheCrypto
import LetheStore

/// One version of the authorizer registry: who may approve destructions, with which role,
/// under which approval policy and grace period. Versions form a hash chain (each names the
/// SHA-256 of the one before), and each is signed by the authorizers themselves, so neither
/// the store (S), the home (H) nor the operator holding the service key (O) can add a key,
/// change a role or relax the policy. The exact `canonicalBytes()` are what is signed.
public struct RegistryDocument: Codable, Equatable, Sendable {
    public static let formatName = "lethe-authorizer-registry-v2"

    public var format: String = RegistryDocument.formatName
    public var version: Int
    /// SHA-256 (hex) of the previous version's document bytes; nil for version 1.
    public var previous: String?
    public var policy: ApprovalPolicy
    /// Hours between the approval that meets the policy and the earliest execution.
    public var gracePeriodHours: Int
    /// The approvals an erasure purge needs; nil for `PurgeDocument.defaultPolicy` (one DPO).
    /// Absent from the signed bytes while nil, so versions written before it verify unchanged.
    public var purgePolicy: ApprovalPolicy?
    /// Every authorizer ever registered, in the order added; removed ones stay, marked.
    public var authorizers: [Authorizer]
    /// What this version changes, for people.
    public var changes: [String]
    public var proposed: String
    public var proposedBy: String

    public func canonicalBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    public var active: [Authorizer] { authorizers.filter(\.isActive) }

    public func authorizer(fingerprint: String) -> Authorizer? {
        authorizers.first { $0.fingerprint == fingerprint }
    }

    public func authorizer(named name: String) -> Authorizer? {
        authorizers.first { $0.name == name }
    }

    /// The approvals an erasure purge needs under this version.
    public var effectivePurgePolicy: ApprovalPolicy { purgePolicy ?? PurgeDocument.defaultPolicy }

    /// Whether the active authorizers could ever meet the policies (a registry that cannot is a
    /// lockout, and is refused). The default purge policy is not held against a version that
    /// does not set one: versions written before it existed (a registry whose DPO left, where
    /// only destructions were approved) must keep verifying; purges then wait for a DPO.
    var canMeetPolicy: Bool {
        policy.isSatisfied(signedBy: active) && (purgePolicy?.isSatisfied(signedBy: active) ?? true)
    }
}

/// One authorizer's Ed25519 signature over a registry version's document bytes.
public struct RegistrySignature: Codable, Equatable, Sendable {
    public var authorizer: String
    public var fingerprint: String
    /// Raw Ed25519 signature, base64.
    public var signature: String
    public var time: String
}

/// A registry version as stored: the document bytes, the service's signature over them (so
/// that S cannot plant a registry of its own making where none is anchored yet), and the
/// authorizers' signatures collected for it.
public struct RegistryEnvelope: Codable, Equatable, Sendable {
    public static let formatName = "lethe-authorizer-registry-envelope-v1"
    package static let serviceContext = "authorizer-registry"

    public var format: String = RegistryEnvelope.formatName
    /// The canonical document bytes, base64.
    public var document: String
    /// The service's signature (`SignedObject.signedBytes` with context "authorizer-registry").
    public var service: String
    public var signatures: [RegistrySignature]

    public var documentBytes: [UInt8]? { Data(base64Encoded: document).map(Array.init) }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}

/// The rules a registry version must meet, shared by Lethe and by report verification.
public enum RegistryChain {
    /// Versions 1...n, each checked against the one before; the documents and their digests.
    public struct Verified: Sendable {
        public let documents: [RegistryDocument]
        /// SHA-256 (hex) of each version's document bytes.
        public let digests: [String]

        public var current: RegistryDocument? { documents.last }
        public func document(_ version: Int) -> RegistryDocument? {
            version >= 1 && version <= documents.count ? documents[version - 1] : nil
        }
    }

    /// Verifies `envelopes` as versions 1, 2, … in order. `serviceKey` checks the service's
    /// signature on each; `name` names version n in errors. Throws an integrity error naming
    /// the first version that breaks a rule.
    public static func verify(
        _ envelopes: [RegistryEnvelope], serviceKey: Ed25519.PublicKey, name: (Int) -> String
    ) throws -> Verified {
        var documents: [RegistryDocument] = []
        var digests: [String] = []
        for (offset, envelope) in envelopes.enumerated() {
            let version = offset + 1
            let (document, bytes) = try open(envelope, serviceKey: serviceKey, name: name(version))
            guard document.version == version else {
                throw LetheError.integrity("\(name(version)) says it is version \(document.version)")
            }
            if let reason = try shortfall(document, bytes: bytes, signatures: envelope.signatures, previous: documents.last, previousDigest: digests.last) {
                throw LetheError.integrity("\(name(version)): \(reason)")
            }
            documents.append(document)
            digests.append(Hex.encode(try SHA256.hash(bytes)))
        }
        return Verified(documents: documents, digests: digests)
    }

    /// The document of `envelope`, after checking its format and the service's signature.
    public static func open(_ envelope: RegistryEnvelope, serviceKey: Ed25519.PublicKey, name: String) throws -> (RegistryDocument, [UInt8]) {
        guard envelope.format == RegistryEnvelope.formatName, let bytes = envelope.documentBytes,
              let service = Data(base64Encoded: envelope.service).map(Array.init) else {
            throw LetheError.integrity("\(name) is not an authorizer registry version")
        }
        guard serviceKey.isValidSignature(service, for: SignedObject.signedBytes(context: RegistryEnvelope.serviceContext, document: bytes)) else {
            throw LetheError.integrity("\(name) does not carry this service's signature")
        }
        guard let document = try? JSONDecoder().decode(RegistryDocument.self, from: Data(bytes)),
              document.format == RegistryDocument.formatName, try document.canonicalBytes() == bytes else {
            throw LetheError.integrity("\(name) is not a canonical authorizer registry document")
        }
        return (document, bytes)
    }

    /// Why `signatures` do not (yet) make `document` a valid successor of `previous`, or nil
    /// when they do. Structural faults (a changed key, a broken hash link, an invalid
    /// signature) are also reasons; a caller collecting signatures shows the reason, a caller
    /// loading the chain treats it as an integrity violation.
    ///
    /// Version 1 needs the signature of every authorizer it lists (each confirms their key
    /// and role). Every later version needs signatures from authorizers active in the
    /// previous version that meet the previous version's policy, plus the signature of each
    /// authorizer it adds. No version may leave the active authorizers unable to meet its
    /// policy.
    public static func shortfall(
        _ document: RegistryDocument, bytes: [UInt8], signatures: [RegistrySignature], previous: RegistryDocument?,
        previousDigest: String?
    ) throws -> String? {
        if let problem = try structuralProblem(document, previous: previous, previousDigest: previousDigest) { return problem }
        var signers: [Authorizer] = []
        for signature in signatures {
            guard let authorizer = document.authorizer(fingerprint: signature.fingerprint)
                    ?? previous?.authorizer(fingerprint: signature.fingerprint),
                  let raw = Data(base64Encoded: signature.signature).map(Array.init),
                  try authorizer.key().isValidSignature(raw, for: bytes) else {
                return "the signature attributed to \(signature.authorizer) (\(signature.fingerprint)) does not verify"
            }
            signers.append(authorizer)
        }
        let signed = Set(signers.map(\.fingerprint))
        guard let previous else {
            let missing = document.active.filter { !signed.contains($0.fingerprint) }.map(\.name)
            return missing.isEmpty ? nil : "version 1 needs the signature of every authorizer it lists; missing: \(missing.joined(separator: ", "))"
        }
        let previousActive = Set(previous.active.map(\.fingerprint))
        let quorum = signers.filter { previousActive.contains($0.fingerprint) }
        if !previous.policy.isSatisfied(signedBy: quorum) {
            return "needs signatures of \(previous.policy.summary) of version \(previous.version); has \(Set(quorum.map(\.fingerprint)).count)"
        }
        let known = Set(previous.authorizers.map(\.fingerprint))
        let unconfirmed = document.authorizers.filter { !known.contains($0.fingerprint) && !signed.contains($0.fingerprint) }.map(\.name)
        if !unconfirmed.isEmpty {
            return "each authorizer added must sign too; missing: \(unconfirmed.joined(separator: ", "))"
        }
        return nil
    }

    /// Faults no signature can cure.
    package static func structuralProblem(_ document: RegistryDocument, previous: RegistryDocument?, previousDigest: String?) throws -> String? {
        if let reason = document.policy.validate() { return reason }
        if let reason = document.purgePolicy?.validate() { return "purge policy: \(reason)" }
        guard document.gracePeriodHours >= 0 else { return "the grace period is negative" }
        guard document.canMeetPolicy else {
            return "its active authorizers cannot meet its own policy (\(document.policy.summary); purges \(document.effectivePurgePolicy.summary))"
        }
        guard Set(document.authorizers.map(\.name)).count == document.authorizers.count,
              Set(document.authorizers.map(\.fingerprint)).count == document.authorizers.count else {
            return "an authorizer name or key appears twice"
        }
        for authorizer in document.authorizers {
            guard let key = try? authorizer.key(), try key.fingerprint == authorizer.fingerprint else {
                return "the key of \(authorizer.name) does not match its fingerprint"
            }
        }
        guard let previous else {
            guard document.version == 1, document.previous == nil else { return "version 1 must not name a previous version" }
            guard document.authorizers.allSatisfy(\.isActive) else { return "version 1 lists a removed authorizer" }
            return nil
        }
        guard document.version == previous.version + 1, document.previous == previousDigest else {
            return "does not name version \(previous.version) as its predecessor (hash chain broken)"
        }
        for old in previous.authorizers {
            guard var now = document.authorizer(named: old.name) else { return "drops authorizer \(old.name)" }
            if old.isActive, !now.isActive { (now.removed, now.removedBy, now.removalReason) = (nil, nil, nil) }
            guard now == old else { return "changes the entry of \(old.name) (only removal is allowed)" }
        }
        return nil
    }
}
