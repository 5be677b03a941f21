import Foundation
import LetheCrypto

/// Checks a destruction report with nothing but its bytes, its signature, and what the
/// auditor trusts independently of it: the service's public key and the authorizers' key
/// fingerprints (or the SHA-256 of the registry's version 1), obtained out of band. A report
/// is never trusted to say which keys should check it.
public enum ReportVerifier {
    /// What the auditor brings.
    public struct Trust: Sendable {
        public let serviceKey: Ed25519.PublicKey
        /// Key fingerprints (`SHA256:<hex>`) of the authorizers the auditor knows; only
        /// approvals by these keys count. Nil trusts the registry chain from its version 1.
        public let authorizers: Set<String>?
        /// SHA-256 (hex) of registry version 1, if the auditor pinned it.
        public let registryGenesis: String?

        public init(serviceKey: Ed25519.PublicKey, authorizers: Set<String>?, registryGenesis: String?) {
            self.serviceKey = serviceKey
            self.authorizers = authorizers
            self.registryGenesis = registryGenesis
        }
    }

    public struct Result: Codable, Sendable {
        public var checks: [VerificationCheck] = []
        public var isValid: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
    }

    public static func verify(json: [UInt8], signature: [UInt8], trust: Trust) -> Result {
        var result = Result()
        func add(_ check: String, _ passed: Bool, _ detail: String) {
            result.checks.append(VerificationCheck(check: check, passed: passed, detail: detail))
        }
        let fingerprint = (try? trust.serviceKey.fingerprint) ?? "?"
        let signed = trust.serviceKey.isValidSignature(signature, for: json)
        add("report signature", signed, signed ? "valid Ed25519 signature by \(fingerprint)" : "does not verify with \(fingerprint)")
        if let format = (try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])?["format"] as? String,
           format == ErasureCertificate.formatName {
            verifyCertificate(json: json, trust: trust, add: add)
            return result
        }
        guard let report = try? JSONDecoder().decode(DestructionReport.self, from: Data(json)),
              report.format == DestructionReport.formatName else {
            add("report format", false, "not a \(DestructionReport.formatName) document")
            return result
        }
        add("signer", report.signer.keyFingerprint == fingerprint, "the report names signer \(report.signer.keyFingerprint)")

        // What the authorizers signed, and whether the report says the same.
        guard let bytes = Data(base64Encoded: report.request.bytes).map(Array.init),
              let digest = try? SHA256.hash(bytes), Hex.encode(digest) == report.request.sha256,
              let request = DestructionRequest.decode(bytes) else {
            add("request bytes", false, "the embedded request is not a canonical request matching its SHA-256")
            return result
        }
        let mismatches = claimMismatches(report, request: request)
        add("report matches the signed request", mismatches.isEmpty,
            mismatches.isEmpty ? "tenant, reason, policy, registry version, key, inventory and register are the request's"
                : "differs in: " + mismatches.joined(separator: ", "))

        // The registry version that judged the request, from version 1, whose policy and grace
        // period the request must state: the authorizers set them, the requester cannot.
        let judging = registryVersion(report.registry.chain, version: request.registry.version, sha256: request.registry.sha256, trust: trust, add: add)
        if let judging {
            let same = judging.policy == request.policy && judging.gracePeriodHours == request.gracePeriodHours
            add("policy of the registry", same,
                same ? "the request states registry version \(judging.version)'s policy and grace period"
                    : "the request states \(request.policy.summary) and \(request.gracePeriodHours) h, but registry version "
                        + "\(judging.version) sets \(judging.policy.summary) and \(judging.gracePeriodHours) h")
        }

        // Each approval: a pinned key, of the judging version, with its role, over the bytes.
        let approvers = approvers(report.approvals, over: bytes, named: "the request bytes", judging: judging,
                                  version: request.registry.version, trust: trust, add: add)
        let policy = request.policy.isSatisfied(signedBy: approvers)
        add("approval policy", policy, "\(request.policy.summary); \(Plural.count(Set(approvers.map(\.fingerprint)).count, "verified approval"))")

        // Inclusion in the audit log, and the entry saying what the report says.
        if let logged = loggedEntry(report.auditLog, trust: trust, add: add) {
            let matches = logged.map { logEntry in
                logEntry.operation == DestructionState.Operation.execute.rawValue && logEntry.tenant == request.tenant
                    && logEntry.details["request"] == request.id && logEntry.details["inventoryDigest"] == request.inventory.digest
                    && logEntry.details["report"] == report.reportID && logEntry.details["dekCommitment"] == report.keyEvidence.dekCommitment
                    && logEntry.details["requestSHA256"] == report.request.sha256
            } ?? false
            add("audit entry matches", matches, "the logged entry names this tenant, request (and its SHA-256), report, inventory digest and key")
        }

        let checksPassed = report.verification.allSatisfy(\.passed) && !report.verification.isEmpty
        add("destruction checks", checksPassed, "\(report.verification.filter(\.passed).count) of \(Plural.count(report.verification.count, "recorded check")) passed")
        let inventory = (try? Inventory(objects: report.inventory.objects)).map { $0 == report.inventory } ?? false
        add("inventory digest", inventory, "\(Plural.count(report.inventory.objectCount, "object")), \(Plural.count(report.inventory.bytes, "byte")), digest \(report.inventory.digest.prefix(16))…")
        return result
    }

    /// The fields where the report says something other than the request bytes.
    static func claimMismatches(_ report: DestructionReport, request: DestructionRequest) -> [String] {
        var differ: [String] = []
        if report.request.id != request.id { differ.append("request id") }
        if report.tenant.id != request.tenant || report.tenant.name != request.tenantName { differ.append("tenant") }
        if report.reason != request.reason { differ.append("reason") }
        if report.request.requester != request.requester || report.request.requested != request.requested { differ.append("requester") }
        if report.policy != request.policy || report.gracePeriodHours != request.gracePeriodHours { differ.append("policy") }
        if report.registry.version != request.registry.version || report.registry.sha256 != request.registry.sha256 {
            differ.append("registry version")
        }
        if report.keyEvidence.dekID != request.dekID || report.keyEvidence.dekCommitment != request.dekCommitment {
            differ.append("key (the revoked key is not the one requested)")
        }
        if report.inventory != request.inventory { differ.append("inventory") }
        if report.storage.versioning != request.versioning { differ.append("store versioning") }
        if report.register != request.register { differ.append("register") }
        return differ
    }

    /// Judges each approval, a check each: a key the auditor pinned, an active authorizer of
    /// the `judging` registry version with the name and role the approval claims, whose
    /// signature verifies over `bytes`. Returns the authorizers whose approval holds, for the
    /// policy. Shared by destruction reports and erasure certificates.
    static func approvers(
        _ approvals: [Approval], over bytes: [UInt8], named signed: String, judging: RegistryDocument?, version: Int, trust: Trust,
        add: (String, Bool, String) -> Void
    ) -> [Authorizer] {
        var approvers: [Authorizer] = []
        for approval in approvals {
            var problem: String?
            let authorizer = judging?.authorizer(fingerprint: approval.keyFingerprint)
            if let pinned = trust.authorizers, !pinned.contains(approval.keyFingerprint) {
                problem = "key \(approval.keyFingerprint) is not one of the authorizer keys you hold"
            } else if judging == nil {
                problem = "no verified registry to judge it by"
            } else if authorizer == nil || authorizer?.isActive != true {
                problem = "key \(approval.keyFingerprint) is not an active authorizer of registry version \(version)"
            } else if authorizer?.role != approval.role || authorizer?.name != approval.authorizer {
                problem = "the registry gives this key the name \(authorizer!.name) and role \(authorizer!.role.rawValue)"
            } else if !(((try? authorizer!.key()).map { key in
                Data(base64Encoded: approval.signature).map { key.isValidSignature(Array($0), for: bytes) } ?? false
            }) ?? false) {
                problem = "the signature does not verify over \(signed)"
            }
            if problem == nil, let authorizer { approvers.append(authorizer) }
            add("approval by \(approval.authorizer)", problem == nil,
                problem ?? "\(approval.role.rawValue), key \(approval.keyFingerprint), signed \(signed)")
        }
        return approvers
    }

    /// Checks that `audit`'s checkpoint is signed by the service key and that its entry is in
    /// that tree at its index. Nil when the checkpoint does not hold (said as a failed check);
    /// otherwise the entry, decoded (nil inside if it is no audit entry or not at that index),
    /// for the caller to match against what it certifies.
    static func loggedEntry(_ audit: DestructionReport.AuditEvidence, trust: Trust, add: (String, Bool, String) -> Void) -> AuditEntry?? {
        let entry = Array(audit.entry.utf8)
        let checkpoint = (try? Checkpoint.verify(audit.checkpoint, publicKey: trust.serviceKey)) ?? nil
        guard let checkpoint, checkpoint.size == audit.treeSize, let leaf = try? MerkleTree.leafHash(entry) else {
            add("audit checkpoint", false, "the checkpoint is not signed by this key or does not match the tree size")
            return nil
        }
        let path = audit.inclusionProof.compactMap { Data(base64Encoded: $0).map(Array.init) }
        let included = path.count == audit.inclusionProof.count
            && ((try? MerkleTree.verifyInclusion(leaf: leaf, index: audit.leafIndex, size: audit.treeSize, proof: path, root: checkpoint.root)) ?? false)
        add("audit log inclusion", included,
            included ? "entry \(audit.leafIndex) is in the signed tree of size \(audit.treeSize)" : "the inclusion proof does not lead to the checkpoint")
        let decoded = try? JSONDecoder().decode(AuditEntry.self, from: Data(entry))
        return .some(decoded.flatMap { $0.index == audit.leafIndex ? $0 : nil })
    }

    /// Verifies the embedded chain and returns the version that judged the request.
    static func registryVersion(
        _ chain: [RegistryEnvelope], version: Int, sha256: String, trust: Trust, add: (String, Bool, String) -> Void
    ) -> RegistryDocument? {
        let verified: RegistryChain.Verified
        do {
            verified = try RegistryChain.verify(chain, serviceKey: trust.serviceKey, name: { "registry version \($0)" })
        } catch {
            add("authorizer registry", false, "the embedded registry chain does not verify: \(error)")
            return nil
        }
        guard verified.documents.count == version, verified.digests.last == sha256 else {
            add("authorizer registry", false, "the embedded chain does not end at the version the request names")
            return nil
        }
        if let genesis = trust.registryGenesis, verified.digests.first != genesis {
            add("authorizer registry", false, "its version 1 is \(verified.digests.first ?? "-"), not the \(genesis) you pinned")
            return nil
        }
        add("authorizer registry", true,
            "versions 1 to \(version) verify, each signed by the authorizers; version 1 is \(verified.digests[0])")
        return verified.current
    }
}
