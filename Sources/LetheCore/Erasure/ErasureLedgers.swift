import Foundation
import LetheCrypto
import LetheRepository
import LetheStore

/// The erasure ledgers of an installation: recording a request, and reading a tenant's
/// ledger as every restore and export applies it.
///
/// A ledger is trusted only as the audit log names it. Every version is sealed under the
/// tenant's key and logged (`erase.request`, with `ledgerVersion` and `ledgerSHA256`, the
/// SHA-256 of the sealed object). Reading compares the stored object with the newest logged
/// version: the same is the ledger; missing, older, or another object of that version is an
/// integrity error (exit 3), never an empty ledger; exactly one version ahead and chained to
/// the logged one is an `erase request` that crashed before logging, and is logged now.
public struct ErasureLedgers: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    // MARK: Recording

    /// Records one person's erasure for `tenant`: a new ledger version holding the request,
    /// sealed and stored, then logged. From then on every restore and export applies it.
    public func request(tenant: TenantID, subjectRef: String, reason: String, rules: [ErasureRule]) throws -> ErasureRequest {
        guard !subjectRef.isEmpty else { throw LetheError.usage("--subject-ref must not be empty") }
        guard !reason.isEmpty else { throw LetheError.usage("--reason must not be empty") }
        guard !rules.isEmpty else {
            throw LetheError.usage("an erasure request needs at least one rule (--sql, --path, --csv or --json); see `lethe erase request --help`")
        }
        for rule in rules {
            if let problem = rule.problem { throw LetheError.usage(problem) }
        }
        let record = try TenantRegistry(installation).record(tenant)
        // An open destruction request holds an inventory of the tenant's objects, which a new
        // ledger version would change; the destruction shreds the ledger's subject anyway.
        try Lifecycle(installation).requireNoOpenDestruction(tenant, doing: "record an erasure for")
        let repository = try installation.repository(for: record.id)
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "erase request", clock: installation.clock)
        defer { lock.release() }
        let (ledger, digest) = try load(tenant, repository: repository)
        let date = Timestamp.format(installation.now).prefix(10).replacingOccurrences(of: "-", with: "")
        let request = ErasureRequest(
            id: "er-\(date)-\(Hex.encode(try SystemRandom.bytes(count: 4)))", tenant: tenant.rawValue, subjectRef: subjectRef,
            subjectHash: try repository.keys.subjectHash(subjectRef), reason: reason, requester: installation.actor,
            requested: installation.nowText, rules: rules, ledgerVersion: ledger.version + 1)
        var next = ledger
        next.version += 1
        next.previous = digest
        next.requests.append(request)
        let sealed = try SealedObject.seal(next.encoded(), kind: .erasureLedger, name: tenant.rawValue, keys: repository.keys)
        try installation.store.put(Layout.erasureLedger(tenant), sealed)
        FaultPoint.reach("erase.ledger-stored")
        try AuditTrail(installation).record(ErasureLedgers.event(for: request, ledgerSHA256: Hex.encode(try SHA256.hash(sealed))))
        return request
    }

    /// The audit entry of a request: its id, subject hash, redacted rules, and the ledger
    /// version with the SHA-256 of its sealed object.
    static func event(for request: ErasureRequest, ledgerSHA256: String, recovered: Bool = false) throws -> [AuditLog.Event] {
        let rules = String(decoding: try JSONEncoder().encode(request.rules.map(\.redacted)), as: UTF8.self)
        var details = [
            "request": request.id, "subjectHash": request.subjectHash, "rules": rules,
            "ledgerVersion": String(request.ledgerVersion), "ledgerSHA256": ledgerSHA256,
        ]
        if recovered { details["recovered"] = "an erase request interrupted before it was logged" }
        return [AuditLog.Event("erase.request", tenant: request.tenant, details: details)]
    }

    // MARK: Reading

    /// The newest ledger version the audit log records for `tenant`: (version, SHA-256, entry
    /// index), or nil when it records none.
    func logged(_ tenant: TenantID) throws -> (version: Int, sha256: String, index: Int)? {
        for entry in try AuditTrail(installation).history().entries.reversed() where entry.tenant == tenant.rawValue {
            guard entry.operation.hasPrefix("erase."), let text = entry.details["ledgerVersion"] else { continue }
            guard let version = Int(text), let sha = entry.details["ledgerSHA256"] else {
                throw LetheError.integrity("audit log: entry \(entry.index) records an unreadable erasure ledger version")
            }
            return (version, sha, entry.index)
        }
        return nil
    }

    /// `tenant`'s ledger, authenticated against the audit log, and the SHA-256 of its sealed
    /// object (nil while there is none).
    public func load(_ tenant: TenantID, repository: Repository) throws -> (ErasureLedger, String?) {
        let key = Layout.erasureLedger(tenant)
        let logged = try self.logged(tenant)
        let sealed: [UInt8]
        do {
            sealed = try installation.store.get(key)
        } catch is ObjectNotFound {
            if let logged {
                throw LetheError.integrity(
                    "\(key) is missing, though the audit log records erasure ledger version \(logged.version) (entry \(logged.index)); "
                        + "restores and exports of \(tenant) are refused until it is put back")
            }
            return (ErasureLedger.empty(tenant.rawValue), nil)
        }
        let plaintext = try SealedObject.open(sealed, kind: .erasureLedger, name: tenant.rawValue, keys: repository.keys, key: key)
        guard let ledger = try? JSONDecoder().decode(ErasureLedger.self, from: Data(plaintext)),
              ledger.format == ErasureLedger.formatName, ledger.tenant == tenant.rawValue, ledger.version == ledger.requests.count,
              ledger.requests.enumerated().allSatisfy({ $1.ledgerVersion == $0 + 1 && $1.tenant == tenant.rawValue }) else {
            throw LetheError.integrity("\(key) authenticates but is not a valid erasure ledger of \(tenant)")
        }
        let digest = Hex.encode(try SHA256.hash(sealed))
        let loggedVersion = logged?.version ?? 0
        if let logged, ledger.version == logged.version {
            guard ConstantTime.equals(Array(digest.utf8), Array(logged.sha256.utf8)) else {
                throw LetheError.integrity(
                    "\(key) is not the erasure ledger version \(logged.version) the audit log records (entry \(logged.index)): it was replaced")
            }
            return (ledger, digest)
        }
        if ledger.version == loggedVersion + 1, ledger.previous == logged?.sha256, let newest = ledger.requests.last {
            try AuditTrail(installation).record(try ErasureLedgers.event(for: newest, ledgerSHA256: digest, recovered: true))
            return (ledger, digest)
        }
        if ledger.version < loggedVersion {
            throw LetheError.integrity(
                "\(key) is erasure ledger version \(ledger.version), but the audit log records version \(loggedVersion) (entry \(logged!.index)): "
                    + "an older ledger was put back (rolled back)")
        }
        throw LetheError.integrity(
            "\(key) is erasure ledger version \(ledger.version), which the audit log does not record (it records \(loggedVersion))")
    }

    /// The filter every restore and export of `tenant` applies: the ledger's rules in order,
    /// with the snapshot-root names of the tenant's `sqlite:` sources.
    public func filter(for tenant: TenantID, repository: Repository) throws -> ErasureFilter {
        let (ledger, _) = try load(tenant, repository: repository)
        let record = try TenantRegistry(installation).record(tenant)
        let sqlite = record.sources.filter { $0.kind == .sqlite }.compactMap(\.entryName)
        do {
            return try ErasureFilter(rules: ledger.rules, sqliteSources: sqlite, ledgerVersion: ledger.version)
        } catch {
            throw LetheError.integrity("\(Layout.erasureLedger(tenant)) holds a rule that cannot be used: \(error)")
        }
    }

    /// The requests of `tenant`, oldest first.
    public func requests(of tenant: TenantID) throws -> [ErasureRequest] {
        _ = try TenantRegistry(installation).record(tenant)
        return try load(tenant, repository: try installation.repository(for: tenant)).0.requests
    }

    /// The request `id` (or a unique prefix of it), found through the audit log, which names
    /// its tenant.
    public func request(_ id: String) throws -> ErasureRequest {
        guard id.count >= 4 else { throw LetheError.usage("an erasure request id needs at least 4 characters (er-…)") }
        var tenants: [String: Set<String>] = [:]
        for entry in try AuditTrail(installation).history().entries where entry.operation == "erase.request" {
            if let request = entry.details["request"], request.hasPrefix(id), let tenant = entry.tenant {
                tenants[request, default: []].insert(tenant)
            }
        }
        guard !tenants.isEmpty else { throw LetheError.usage("no erasure request \(id) (see `lethe erase list`)") }
        guard tenants.count == 1, let (full, owners) = tenants.first, owners.count == 1, let owner = owners.first else {
            throw LetheError.usage("erasure request id \(id) is ambiguous; give more of it")
        }
        let tenant = try TenantID(owner)
        guard let request = try requests(of: tenant).first(where: { $0.id == full }) else {
            throw LetheError.integrity("the audit log records erasure request \(full) of \(tenant), which its ledger does not hold")
        }
        return request
    }
}
