import Foundation
import LetheCrypto
import LetheRepository
import LetheStore

/// What a DPO signs to let a purge remove one erasure request's person from the stored
/// snapshots: canonical JSON naming the request, the tenant, the subject hash, the ledger
/// version whose rules apply (every request up to and including this one), the rules
/// redacted and their keyed digest with the values, and the authorizer registry version that
/// judges the approvals. No personal data.
///
/// The digest is what binds the signature to the values. Without it, O (root, holding the
/// tenant's key) could change the value of an approved rule in the ledger (another person's
/// email under the same redacted `DELETE FROM contacts WHERE email = ?`) and purge that
/// person under the DPO's signature; with it, the document changes and no approval verifies.
public struct PurgeDocument: Codable, Equatable, Sendable {
    public static let formatName = "lethe-erasure-purge-v2"
    /// Documents before the digest: still read, so that certificates issued over them keep
    /// verifying; never written, and approvals over them no longer count for a purge.
    public static let formatWithoutDigest = "lethe-erasure-purge-v1"

    public var format = PurgeDocument.formatName
    public var request: String
    public var tenant: String
    public var subjectHash: String
    public var ledgerVersion: Int
    public var rules: [String]
    /// `TenantKeys.rulesDigest` of the same rules with their values, in ledger order
    /// (`ErasureApprovals.encodedRules`); nil only in a v1 document.
    public var rulesDigest: String?
    public var policy: ApprovalPolicy
    public var registry: RegistryReference

    /// Unless the authorizer registry says otherwise (`lethe authorizer policy
    /// --purge-required`), a purge needs one DPO's signature, whatever the destruction policy
    /// asks: it removes one person's data, which the ledger already keeps from leaving, not a
    /// tenant.
    public static let defaultPolicy = ApprovalPolicy(required: 1, minimumDPOs: 1)

    public func canonicalBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// A format this version reads: v2 with its digest, or v1 without one.
    public var hasKnownFormat: Bool {
        (format == Self.formatName && rulesDigest != nil) || (format == Self.formatWithoutDigest && rulesDigest == nil)
    }
}

/// Approvals of purges, with the authorizer registry and its signature checks that judge
/// destruction requests (`AuthorizerRegistry`, `Authorizer.key()`, `ApprovalPolicy`); each
/// approval is logged (`erase.approve`, with the signature), and a purge trusts only what the
/// log holds, verified again against the document as it is then.
public struct ErasureApprovals: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    /// The document a purge of `request` needs signed, as of the ledger and the registry now.
    public func document(for request: ErasureRequest) throws -> (PurgeDocument, [UInt8]) {
        let tenant = try TenantID(request.tenant)
        let repository = try installation.repository(for: tenant)
        return try document(for: request, ledger: try ErasureLedgers(installation).load(tenant, repository: repository).0, repository: repository)
    }

    /// The document of `request` over `ledger` as read: a purge builds it from the very ledger
    /// it then applies, so that no rule can change between the approval check and its use.
    func document(for request: ErasureRequest, ledger: ErasureLedger, repository: Repository) throws -> (PurgeDocument, [UInt8]) {
        let chain = try AuthorizerRegistry(installation).chain()
        guard let current = chain.current, let digest = chain.digests.last else {
            throw LetheError.refused("no authorizers are registered: a purge needs a DPO's approval (`lethe authorizer add`, see docs/operations.md)")
        }
        let rules = ledger.requests.filter { $0.ledgerVersion <= request.ledgerVersion }.flatMap(\.rules)
        let document = PurgeDocument(
            request: request.id, tenant: request.tenant, subjectHash: request.subjectHash, ledgerVersion: request.ledgerVersion,
            rules: rules.map(\.redacted), rulesDigest: try repository.keys.rulesDigest(try Self.encodedRules(rules)),
            policy: current.effectivePurgePolicy, registry: RegistryReference(version: current.version, sha256: digest))
        return (document, try document.canonicalBytes())
    }

    /// The rules as the digest reads them: a JSON array in the ledger's own form
    /// (docs/format.md), keys sorted.
    static func encodedRules(_ rules: [ErasureRule]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(rules))
    }

    /// Adds `authorizerName`'s signature over the purge document of request `id`. Refused
    /// (exit 4, nothing logged) for an unknown or removed authorizer, a signature over other
    /// bytes, or an authorizer who already approved.
    @discardableResult
    public func approve(_ id: String, authorizerName: String, signature: [UInt8]) throws -> [Authorizer] {
        let request = try ErasureLedgers(installation).request(id)
        let (document, bytes) = try self.document(for: request)
        guard let current = try AuthorizerRegistry(installation).chain().current,
              let authorizer = current.authorizer(named: authorizerName), authorizer.isActive else {
            throw LetheError.refused("\(authorizerName) is not an active authorizer (see `lethe authorizer list`)")
        }
        guard signature.count == Ed25519.signatureByteCount, try authorizer.key().isValidSignature(signature, for: bytes) else {
            throw LetheError.refused(
                "the signature of \(authorizerName) does not verify over the purge document of \(request.id) (`lethe erase show \(request.id) --raw`)")
        }
        let approvers = try self.approvers(of: request, bytes: bytes)
        guard !approvers.contains(where: { $0.fingerprint == authorizer.fingerprint }) else {
            throw LetheError.refused("\(authorizerName) has already approved the purge of \(request.id)")
        }
        try AuditTrail(installation).record("erase.approve", tenant: try TenantID(request.tenant), details: [
            "request": request.id, "authorizer": authorizer.name, "role": authorizer.role.rawValue,
            "fingerprint": authorizer.fingerprint, "signature": Data(signature).base64EncodedString(),
            "documentSHA256": Hex.encode(try SHA256.hash(bytes)), "registryVersion": String(document.registry.version),
        ])
        return approvers + [authorizer]
    }

    /// Signs the purge document with `privateKey` and adds the approval of its authorizer.
    @discardableResult
    public func approve(_ id: String, privateKey: Ed25519.PrivateKey) throws -> [Authorizer] {
        let request = try ErasureLedgers(installation).request(id)
        let (_, bytes) = try document(for: request)
        let fingerprint = try privateKey.publicKey.fingerprint
        guard let authorizer = try AuthorizerRegistry(installation).chain().current?.authorizer(fingerprint: fingerprint) else {
            throw LetheError.refused("the key \(fingerprint) belongs to no authorizer")
        }
        return try approve(id, authorizerName: authorizer.name, signature: try privateKey.signature(for: bytes))
    }

    /// The authorizers whose logged approvals verify over `bytes` now: active in the registry
    /// in force, with the role it gives them. An approval over an older document (the
    /// registry changed since) no longer counts.
    func approvers(of request: ErasureRequest, bytes: [UInt8]) throws -> [Authorizer] {
        guard let current = try AuthorizerRegistry(installation).chain().current else { return [] }
        var found: [Authorizer] = []
        for entry in try AuditTrail(installation).history().entries
        where entry.operation == "erase.approve" && entry.details["request"] == request.id && entry.tenant == request.tenant {
            guard let fingerprint = entry.details["fingerprint"], let authorizer = current.authorizer(fingerprint: fingerprint),
                  authorizer.isActive, !found.contains(where: { $0.fingerprint == fingerprint }),
                  let signature = entry.details["signature"].flatMap({ Data(base64Encoded: $0) }).map(Array.init),
                  try authorizer.key().isValidSignature(signature, for: bytes) else { continue }
            found.append(authorizer)
        }
        return found
    }

    /// Whether the approvals of request `id` meet the purge policy in force.
    public func isApproved(_ id: String) throws -> Bool {
        let request = try ErasureLedgers(installation).request(id)
        let (document, bytes) = try document(for: request)
        return document.policy.isSatisfied(signedBy: try approvers(of: request, bytes: bytes))
    }

    /// The approvers of the purge document `document`/`bytes`, when they meet its policy;
    /// refused (exit 4) otherwise.
    func requireApproved(_ request: ErasureRequest, document: PurgeDocument, bytes: [UInt8]) throws -> [Authorizer] {
        let approvers = try self.approvers(of: request, bytes: bytes)
        guard document.policy.isSatisfied(signedBy: approvers) else {
            throw LetheError.refused(
                "the purge of \(request.id) needs \(document.policy.summary)'s approval over its purge document "
                    + "(`lethe erase show \(request.id) --raw`, then `lethe erase approve \(request.id)`)")
        }
        return approvers
    }
}
