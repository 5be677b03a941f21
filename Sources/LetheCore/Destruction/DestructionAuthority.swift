import Foundation
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore

/// The checks that stand between an approved request and the first irreversible step, each
/// made from authenticated material only:
///
/// - the request bytes, which the audit log recorded by their SHA-256;
/// - the approvals' Ed25519 signatures over those bytes, as the log recorded them;
/// - the registry version the request names (verified chain, anchored on this host), whose
///   authorizers and roles judge the approvals, and whose policy and grace period must be the
///   ones inside the request;
/// - the times of the logged approvals, from which the end of the grace period is computed;
/// - the tenant's legal hold, from its sealed record and from the log;
/// - the store's objects (the inventory) and the keystore entry (the key to revoke) now.
///
/// Nothing is taken from a file that only the store or the home vouches for.
struct DestructionAuthority {
    let installation: Installation

    init(_ installation: Installation) {
        self.installation = installation
    }

    /// The registry version that judges a request, and the one in force now.
    struct Judges {
        let version: RegistryDocument
        let current: RegistryDocument
    }

    func registry(for entry: DestructionRequests.Entry) throws -> Judges {
        let chain = try AuthorizerRegistry(installation).chain()
        let reference = entry.request.registry
        guard let version = chain.document(reference.version), let current = chain.current,
              chain.digests[reference.version - 1] == reference.sha256 else {
            throw LetheError.integrity(
                "request \(entry.id) is judged by authorizer registry version \(reference.version) (\(reference.sha256.prefix(16))…), "
                    + "which the verified registry does not have")
        }
        guard version.policy == entry.request.policy, version.gracePeriodHours == entry.request.gracePeriodHours else {
            throw LetheError.integrity(
                "request \(entry.id) states a policy or grace period other than its registry version \(version.version)'s")
        }
        return Judges(version: version, current: current)
    }

    /// The authorizers behind the logged approvals, each checked: the signature verifies over
    /// the request bytes with a key of the judging version, the key is still active now, and
    /// the role is the one that version gives it.
    func approvers(of entry: DestructionRequests.Entry, judges: Judges) throws -> [Authorizer] {
        try entry.state.approvals.map { approval in
            guard let authorizer = judges.version.authorizer(fingerprint: approval.keyFingerprint), authorizer.isActive else {
                throw LetheError.integrity("the approval of \(approval.authorizer) on \(entry.id) is by no authorizer of registry version \(judges.version.version)")
            }
            guard judges.current.authorizer(fingerprint: authorizer.fingerprint)?.isActive == true else {
                throw LetheError.refused(
                    "\(authorizer.name) approved \(entry.id) but has since been removed as an authorizer; cancel it and make a new request")
            }
            guard let signature = Data(base64Encoded: approval.signature).map(Array.init),
                  try authorizer.key().isValidSignature(signature, for: entry.bytes) else {
                throw LetheError.integrity("the approval of \(authorizer.name) on \(entry.id) does not verify over the request bytes")
            }
            guard approval.role == authorizer.role, approval.authorizer == authorizer.name else {
                throw LetheError.integrity("the approval of \(authorizer.name) on \(entry.id) was logged with another name or role")
            }
            return authorizer
        }
    }

    /// When the grace period ends: the time of the logged approval that first met the policy,
    /// plus the request's grace period.
    func executableAfter(_ entry: DestructionRequests.Entry, approvers: [Authorizer]) throws -> Date {
        for count in approvers.indices where entry.request.policy.isSatisfied(signedBy: Array(approvers[...count])) {
            guard let time = Timestamp.parse(entry.state.approvals[count].time) else {
                throw LetheError.integrity("the approval of \(approvers[count].name) on \(entry.id) was logged without a valid time")
            }
            return time.addingTimeInterval(TimeInterval(entry.request.gracePeriodHours) * 3600)
        }
        throw LetheError.refused("destruction request \(entry.id) lacks approvals: it needs \(entry.request.policy.summary)")
    }

    /// Every check, once more, before execution starts. Refusals (exit 4) change nothing.
    func requireExecutable(_ entry: DestructionRequests.Entry) throws {
        guard case .approved(let approved) = entry.state.phase else {
            throw LetheError.refused("destruction request \(entry.id) is \(entry.status.rawValue), not approved")
        }
        let judges = try registry(for: entry)
        let approvers = try approvers(of: entry, judges: judges)
        let after = try executableAfter(entry, approvers: approvers)
        guard Timestamp.parse(approved.executableAfter) == after else {
            throw LetheError.integrity("the audit log's end of the grace period for \(entry.id) does not follow from its approvals")
        }
        guard installation.now >= after else {
            throw LetheError.refused(
                "destruction request \(entry.id) is in its grace period until \(Timestamp.format(after)); it can still be cancelled")
        }
        let tenant = try TenantID(entry.request.tenant)
        let record = try TenantRegistry(installation).record(tenant)
        if let hold = try record.legalHold?.reason ?? loggedHold(tenant) {
            throw LetheError.refused("tenant \(tenant) was placed on legal hold (\(hold)) after approval; cancel request \(entry.id)")
        }
        try DestructionRequests(installation).requireInventoryUnchanged(entry)
        try DestructionRequests.requireNoHolds(on: tenant, in: installation.store)
        try requireNothingButTheRepository(under: tenant)
        try installation.catalog().requireSound()
        guard let key = try installation.keystore().keyInfo(for: tenant),
              key.dekID == entry.request.dekID, ConstantTime.equals(Array(key.commitment.utf8), Array(entry.request.dekCommitment.utf8)) else {
            throw LetheError.integrity("the keystore's key for \(tenant) is not the key request \(entry.id) names (dek \(entry.request.dekID))")
        }
    }

    /// Throws if anything stands under the tenant's prefix that is not its repository (a link,
    /// a folder of another name): deletion could not remove it, and the destruction would stop
    /// after the key was revoked instead of before.
    private func requireNothingButTheRepository(under tenant: TenantID) throws {
        let store = installation.store
        for name in try store.children(of: tenant.storePrefix) where !["tenant", "data", "index", "snapshots"].contains(name) {
            throw LetheError.integrity("\(tenant.storePrefix)/\(name) is not part of the tenant's repository; remove it before destroying")
        }
        for name in try store.children(of: Layout.dataPrefix(tenant)) where name.utf8.count != 2 || Hex.decode(name) == nil {
            throw LetheError.integrity("\(Layout.dataPrefix(tenant))/\(name) is not part of the tenant's repository; remove it before destroying")
        }
    }

    /// The reason of the legal hold the log says stands on `tenant`, if any: the record could
    /// be an older sealed copy put back by whoever writes the store, the log cannot.
    private func loggedHold(_ tenant: TenantID) throws -> String? {
        let last = try AuditTrail(installation).history().entries.last {
            $0.tenant == tenant.rawValue && ($0.operation == "tenant.hold" || $0.operation == "tenant.release")
        }
        guard let last, last.operation == "tenant.hold" else { return nil }
        return last.details["detail"] ?? "recorded in the audit log at entry \(last.index)"
    }
}
