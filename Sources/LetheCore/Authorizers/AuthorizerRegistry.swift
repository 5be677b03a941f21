import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// The authorizer registry in the store: its versions, `authorizers/version-NNNNNN.json`, and
/// at most one open proposal for the next version, `authorizers/proposal.json`.
///
/// Nothing here can be changed with the service key alone. A change (add, remove, policy) is
/// proposed, the authorizers sign the proposal's exact bytes (with `lethe authorizer sign` or
/// `openssl pkeyutl -sign -rawin`), and the proposal becomes the next version only when the
/// signatures meet `RegistryChain`'s rules. The chain is verified from version 1 on every
/// load and checked against this host's anchor, so a version removed or put back from an
/// older copy is an integrity error rather than a silent rollback. Version 1 is the bootstrap:
/// its digest is printed when it takes effect, for auditors to pin.
public struct AuthorizerRegistry: Sendable {
    let installation: Installation
    static let prefix = try! ObjectKey("authorizers")
    static let proposalKey = try! prefix.appending("proposal.json")

    public init(_ installation: Installation) {
        self.installation = installation
    }

    static func versionKey(_ version: Int) -> ObjectKey {
        let digits = String(version)
        return try! prefix.appending("version-\(String(repeating: "0", count: max(0, 6 - digits.count)))\(digits).json")
    }

    // MARK: Reading

    /// Every version, verified from version 1 and checked against this host's anchor, which
    /// moves forward when the store holds a valid newer version (another host applied it).
    public func chain() throws -> RegistryChain.Verified {
        let names = try installation.store.children(of: AuthorizerRegistry.prefix)
        let numbers = names.compactMap { name -> Int? in
            guard name.hasPrefix("version-"), name.hasSuffix(".json") else { return nil }
            return Int(name.dropFirst(8).dropLast(5))
        }.sorted()
        if numbers.isEmpty, names.contains(where: { $0.hasPrefix("registry-") }) {
            throw LetheError.refused(
                "the authorizer registry is in Lethe 0.1's format, which the service key alone could change; "
                    + "register the authorizers again (`lethe authorizer add`, then each signs; see docs/operations.md)")
        }
        for (offset, number) in numbers.enumerated() where number != offset + 1 {
            throw LetheError.integrity("authorizer registry version \(offset + 1) is missing (found \(AuthorizerRegistry.versionKey(number)))")
        }
        let envelopes = try numbers.map { try envelope(at: AuthorizerRegistry.versionKey($0)) }
        let verified = try RegistryChain.verify(
            envelopes, serviceKey: try installation.signingKey().publicKey, name: { AuthorizerRegistry.versionKey($0).rawValue })
        let anchors = installation.anchors
        let anchor = try anchors.registryHead()
        if let anchor {
            guard verified.documents.count >= anchor.version else {
                throw LetheError.integrity(
                    "the authorizer registry in the store ends at version \(verified.documents.count), but this host has seen version "
                        + "\(anchor.version) (rolled back)")
            }
            guard verified.digests[anchor.version - 1] == anchor.sha256 else {
                throw LetheError.integrity(
                    "\(AuthorizerRegistry.versionKey(anchor.version)) is not the version this host verified (replaced)")
            }
        }
        if let digest = verified.digests.last, verified.documents.count > anchor?.version ?? 0 {
            try anchors.setRegistryHead(.init(version: verified.documents.count, sha256: digest))
        }
        return verified
    }

    /// The registry in force, or nil before version 1 takes effect.
    public func current() throws -> RegistryDocument? {
        try chain().current
    }

    /// The stored envelopes of versions 1 through `version`, for a report to carry.
    public func envelopes(through version: Int) throws -> [RegistryEnvelope] {
        try (1...max(1, version)).map { try envelope(at: AuthorizerRegistry.versionKey($0)) }
    }

    private func envelope(at key: ObjectKey) throws -> RegistryEnvelope {
        let bytes: [UInt8]
        do {
            bytes = try installation.store.get(key)
        } catch is ObjectNotFound {
            throw LetheError.integrity("\(key) is missing")
        }
        guard let envelope = try? JSONDecoder().decode(RegistryEnvelope.self, from: Data(bytes)) else {
            throw LetheError.integrity("\(key) is not an authorizer registry version")
        }
        return envelope
    }

    // MARK: Proposals

    /// The open proposal and what it still lacks.
    public struct Proposal: Sendable {
        public let envelope: RegistryEnvelope
        public let document: RegistryDocument
        /// The bytes to sign.
        public let bytes: [UInt8]
        public let sha256: String
        /// Why it cannot take effect yet, or nil when it can.
        public let shortfall: String?
    }

    /// The open proposal for the next version, or nil.
    public func proposal() throws -> Proposal? {
        try proposal(given: try chain())
    }

    private func proposal(given chain: RegistryChain.Verified) throws -> Proposal? {
        guard let bytes = try? installation.store.get(AuthorizerRegistry.proposalKey) else { return nil }
        guard let envelope = try? JSONDecoder().decode(RegistryEnvelope.self, from: Data(bytes)) else {
            throw LetheError.integrity("\(AuthorizerRegistry.proposalKey) is not an authorizer registry proposal")
        }
        let (document, documentBytes) = try RegistryChain.open(
            envelope, serviceKey: try installation.signingKey().publicKey, name: AuthorizerRegistry.proposalKey.rawValue)
        // A proposal left behind by a crash just after it took effect is done.
        guard document.version == chain.documents.count + 1 else {
            try installation.store.delete(AuthorizerRegistry.proposalKey)
            return nil
        }
        return Proposal(
            envelope: envelope, document: document, bytes: documentBytes, sha256: Hex.encode(try SHA256.hash(documentBytes)),
            shortfall: try RegistryChain.shortfall(
                document, bytes: documentBytes, signatures: envelope.signatures, previous: chain.current,
                previousDigest: chain.digests.last))
    }

    /// Proposes registering `name` with `role` and the Ed25519 public key in `publicKeyPEM`.
    public func proposeAdd(name: String, role: Authorizer.Role, publicKeyPEM: String) throws -> Proposal {
        try Authorizer.validate(name: name)
        let key: Ed25519.PublicKey
        do {
            key = try Ed25519.PublicKey(pemRepresentation: publicKeyPEM)
        } catch let error as CryptoError {
            throw LetheError.usage("the public key of \(name) is not usable: \(error)")
        }
        let fingerprint = try key.fingerprint
        return try amend { document in
            if let existing = document.authorizer(named: name) {
                throw LetheError.usage("authorizer \(name) already exists" + (existing.isActive ? "" : " (removed; choose another name)"))
            }
            if let holder = document.authorizer(fingerprint: fingerprint) {
                throw LetheError.usage("that public key is already registered to \(holder.name)")
            }
            document.authorizers.append(Authorizer(
                name: name, role: role, publicKey: try key.pemRepresentation, fingerprint: fingerprint,
                added: installation.nowText, addedBy: installation.actor))
            return "add \(name) (\(role.rawValue), \(fingerprint))"
        }
    }

    /// Proposes removing `name`; the entry stays, marked removed, so past approvals stay checkable.
    public func proposeRemove(name: String, reason: String) throws -> Proposal {
        try amend { document in
            guard let index = document.authorizers.firstIndex(where: { $0.name == name }) else {
                throw LetheError.usage("unknown authorizer \(name)")
            }
            guard document.authorizers[index].isActive else { throw LetheError.usage("authorizer \(name) was already removed") }
            document.authorizers[index].removed = installation.nowText
            document.authorizers[index].removedBy = installation.actor
            document.authorizers[index].removalReason = reason
            return "remove \(name): \(reason)"
        }
    }

    /// Proposes a new approval policy, grace period and/or purge policy.
    public func proposePolicy(
        required: Int?, minimumDPOs: Int?, gracePeriodHours: Int?, purgeRequired: Int? = nil, purgeMinimumDPOs: Int? = nil
    ) throws -> Proposal {
        try amend { document in
            if let required { document.policy.required = required }
            if let minimumDPOs { document.policy.minimumDPOs = minimumDPOs }
            if let gracePeriodHours {
                guard gracePeriodHours >= 0 else { throw LetheError.usage("the grace period must be 0 hours or more") }
                document.gracePeriodHours = gracePeriodHours
            }
            if purgeRequired != nil || purgeMinimumDPOs != nil {
                var purge = document.effectivePurgePolicy
                if let purgeRequired { purge.required = purgeRequired }
                if let purgeMinimumDPOs { purge.minimumDPOs = purgeMinimumDPOs }
                document.purgePolicy = purge
            }
            if let reason = document.policy.validate() { throw LetheError.usage(reason) }
            if let reason = document.purgePolicy?.validate() { throw LetheError.usage("purge policy: \(reason)") }
            return "policy: \(document.policy.summary); grace period \(document.gracePeriodHours) h; purges \(document.effectivePurgePolicy.summary)"
        }
    }

    /// Applies `change` to the open proposal, or to a new one drawn from the current version.
    /// A proposal that has signatures is frozen: its bytes are what was signed.
    private func amend(_ change: (inout RegistryDocument) throws -> String) throws -> Proposal {
        let chain = try chain()
        var document: RegistryDocument
        if let open = try proposal(given: chain) {
            guard open.envelope.signatures.isEmpty else {
                throw LetheError.refused(
                    "the proposal for registry version \(open.document.version) has signatures already; collect the rest "
                        + "(`lethe authorizer sign`) or discard it (`lethe authorizer discard`) before changing anything")
            }
            document = open.document
        } else if let current = chain.current {
            document = current
            document.version += 1
            document.previous = chain.digests.last
            document.changes = []
        } else {
            document = RegistryDocument(
                version: 1, previous: nil, policy: .standard, gracePeriodHours: 24, authorizers: [], changes: [],
                proposed: "", proposedBy: "")
        }
        document.changes.append(try change(&document))
        document.proposed = installation.nowText
        document.proposedBy = installation.actor
        let bytes = try document.canonicalBytes()
        let envelope = RegistryEnvelope(
            document: Data(bytes).base64EncodedString(),
            service: Data(try installation.signingKey().sign(
                SignedObject.signedBytes(context: RegistryEnvelope.serviceContext, document: bytes))).base64EncodedString(),
            signatures: [])
        try installation.store.put(AuthorizerRegistry.proposalKey, try envelope.encoded())
        let sha = Hex.encode(try SHA256.hash(bytes))
        try AuditTrail(installation).record("authorizer.propose", tenant: nil, details: [
            "version": String(document.version), "change": document.changes.last ?? "", "sha256": sha,
        ])
        return try proposal(given: chain)!
    }

    /// What a signature did: it was collected, or it was the last one needed and the proposal
    /// is now the registry in force.
    public enum SignOutcome: Sendable {
        case collected(Proposal)
        case applied(RegistryDocument, sha256: String)
    }

    /// Adds the signature `privateKey` makes over the proposal.
    public func sign(privateKey: Ed25519.PrivateKey) throws -> SignOutcome {
        guard let open = try proposal() else { throw LetheError.usage("there is no open registry proposal to sign") }
        return try sign(fingerprint: try privateKey.publicKey.fingerprint, signature: try privateKey.signature(for: open.bytes))
    }

    /// Adds `signature` (raw Ed25519, as `openssl pkeyutl -sign -rawin` makes it) by `name`.
    public func sign(authorizerName name: String, signature: [UInt8]) throws -> SignOutcome {
        guard let open = try proposal() else { throw LetheError.usage("there is no open registry proposal to sign") }
        guard let authorizer = open.document.authorizer(named: name) else {
            throw LetheError.refused("\(name) is not in the proposed registry")
        }
        return try sign(fingerprint: authorizer.fingerprint, signature: signature)
    }

    private func sign(fingerprint: String, signature: [UInt8]) throws -> SignOutcome {
        let chain = try chain()
        guard let open = try proposal(given: chain) else { throw LetheError.usage("there is no open registry proposal to sign") }
        let current = chain.current
        let eligible = current?.active.first { $0.fingerprint == fingerprint }
            ?? open.document.authorizers.first { $0.fingerprint == fingerprint && current?.authorizer(fingerprint: fingerprint) == nil }
        guard let signer = eligible else {
            throw LetheError.refused("the key \(fingerprint) is neither an active authorizer nor one this proposal adds")
        }
        guard signature.count == Ed25519.signatureByteCount else {
            throw LetheError.refused("a signature is 64 bytes of raw Ed25519; this one has \(signature.count)")
        }
        guard try signer.key().isValidSignature(signature, for: open.bytes) else {
            throw LetheError.refused(
                "the signature of \(signer.name) does not verify over the proposal's bytes (signed another document, or with another key)")
        }
        guard !open.envelope.signatures.contains(where: { $0.fingerprint == fingerprint }) else {
            throw LetheError.refused("\(signer.name) has already signed this proposal")
        }
        var envelope = open.envelope
        envelope.signatures.append(RegistrySignature(
            authorizer: signer.name, fingerprint: fingerprint, signature: Data(signature).base64EncodedString(),
            time: installation.nowText))
        let shortfall = try RegistryChain.shortfall(
            open.document, bytes: open.bytes, signatures: envelope.signatures, previous: current, previousDigest: chain.digests.last)
        guard shortfall == nil else {
            try installation.store.put(AuthorizerRegistry.proposalKey, try envelope.encoded())
            try AuditTrail(installation).record("authorizer.sign", tenant: nil, details: [
                "version": String(open.document.version), "authorizer": signer.name, "fingerprint": fingerprint, "sha256": open.sha256,
            ])
            return .collected(try proposal(given: chain)!)
        }
        // The last signature needed: the proposal becomes the next version.
        try installation.store.put(AuthorizerRegistry.versionKey(open.document.version), try envelope.encoded())
        try installation.anchors.setRegistryHead(.init(version: open.document.version, sha256: open.sha256))
        try AuditTrail(installation).record("authorizer.registry", tenant: nil, details: [
            "version": String(open.document.version), "sha256": open.sha256, "lastSigner": signer.name,
            "changes": open.document.changes.joined(separator: "; "),
        ])
        try installation.store.delete(AuthorizerRegistry.proposalKey)
        return .applied(open.document, sha256: open.sha256)
    }

    /// Drops the open proposal; nothing changes.
    public func discard(reason: String) throws {
        guard let open = try proposal() else { throw LetheError.usage("there is no open registry proposal") }
        try installation.store.delete(AuthorizerRegistry.proposalKey)
        try AuditTrail(installation).record("authorizer.discard", tenant: nil, details: [
            "version": String(open.document.version), "sha256": open.sha256, "reason": reason,
        ])
    }
}
