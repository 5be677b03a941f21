import Foundation
import LetheCrypto
import LetheRepository
import LetheStore

/// `lethe erase purge`: removes an approved erasure request's person from the stored
/// snapshots, physically.
///
/// Every snapshot the ledger (up to the request) changes is rewritten (`SnapshotRewriter`:
/// same time, paths and every other file), the original forgotten, and then every pack holding
/// a blob no snapshot references any more is repacked or deleted, whatever the prune threshold.
///
/// The journal is the audit log and the derived ids: for each snapshot, the rewrite is stored
/// under an id derived from the original's and the request's, logged (`erase.rewrite`, which
/// makes it a logged snapshot), and only then is the original deleted and its forgetting
/// logged. A crash at any step leaves every snapshot restorable (the original, or its logged
/// rewrite), and running the purge again finds the stored rewrites and completes.
public struct ErasurePurge: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Codable, Sendable {
        public let request: String
        public let tenant: String
        public let approvers: [String]
        /// Original snapshot id → rewritten snapshot id.
        public let rewritten: [String: String]
        public let snapshotsUnaffected: Int
        public let blobsReplaced: Int
        public let prune: Pruner.Result
        public let checks: [VerificationCheck]
        /// The signed erasure certificate (`lethe erase certificate`).
        public let certificate: String
        public var passed: Bool { checks.allSatisfy(\.passed) }
    }

    public func purge(_ id: String) throws -> Result {
        let found = try ErasureLedgers(installation).request(id)
        let tenant = try TenantID(found.tenant)
        try Lifecycle(installation).requireNoOpenDestruction(tenant, doing: "purge")
        let repository = try installation.repository(for: tenant)
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "erase purge", clock: installation.clock)
        defer { lock.release() }
        // One reading of the ledger, under the lock, for the approvals and for the rules applied.
        let (ledger, _) = try ErasureLedgers(installation).load(tenant, repository: repository)
        guard let request = ledger.requests.first(where: { $0.id == found.id }) else {
            throw LetheError.integrity("\(Layout.erasureLedger(tenant)) no longer holds erasure request \(found.id)")
        }
        let approvals = ErasureApprovals(installation)
        let (document, bytes) = try approvals.document(for: request, ledger: ledger, repository: repository)
        let approvers = try approvals.requireApproved(request, document: document, bytes: bytes)
        let record = try TenantRegistry(installation).record(tenant)
        let filter = try ErasureFilter(
            rules: ledger.requests.filter { $0.ledgerVersion <= request.ledgerVersion }.flatMap(\.rules),
            sqliteSources: record.sources.filter { $0.kind == .sqlite }.compactMap(\.entryName), ledgerVersion: request.ledgerVersion)
        try AuditTrail(installation).record("erase.purge.start", tenant: tenant, details: [
            "request": request.id, "approvers": approvers.map(\.name).joined(separator: " "),
        ])

        // What earlier runs of this purge logged.
        var rewrites: [String: String] = [:]
        for entry in try AuditTrail(installation).history().entries
        where entry.operation == "erase.rewrite" && entry.tenant == tenant.rawValue && entry.details["request"] == request.id {
            if let old = entry.details["original"], let new = entry.details["rewritten"] { rewrites[old] = new }
        }
        // Rewrites are never rewritten again: those logged, and those a crashed run stored
        // before logging (their id is derived from an original still listed).
        try requireEveryLoggedSnapshot(of: tenant, in: repository)
        let listed = try repository.snapshots()
        var products = Set(rewrites.values)
        for (original, _) in listed { products.insert(try SnapshotRewriter.rewrittenID(of: original, purge: request.id, keys: repository.keys).hex) }
        var replaced = Set<BlobID>()
        var unaffected = 0
        for (original, snapshot) in listed where !products.contains(original.hex) {
            let outcome = try SnapshotRewriter(repository: repository, filter: filter).rewrite(snapshot)
            replaced.formUnion(outcome.replacedBlobs)
            guard let rewritten = outcome.snapshot else {
                unaffected += 1
                continue
            }
            let newID = try SnapshotRewriter.rewrittenID(of: original, purge: request.id, keys: repository.keys)
            if try !installation.store.exists(Layout.snapshot(tenant, newID)) {
                try repository.saveSnapshot(rewritten, as: newID)
            }
            FaultPoint.reach("erase.rewrite-stored")
            if rewrites[original.hex] == nil {
                try AuditTrail(installation).record("erase.rewrite", tenant: tenant, details: [
                    "request": request.id, "original": original.hex, "rewritten": newID.hex, "snapshot": newID.hex,
                    "filesChanged": String(outcome.filesChanged), "entriesLeftOut": String(outcome.entriesDropped), "time": snapshot.time,
                ])
                rewrites[original.hex] = newID.hex
            }
            try forget(original, of: tenant, repository: repository, request: request.id)
            FaultPoint.reach("erase.original-forgotten")
        }
        // A run that crashed between deleting an original and logging it.
        let logged = LoggedSnapshots(try AuditTrail(installation).history())
        let present = Set(try repository.snapshotIDs().map(\.hex))
        for original in rewrites.keys.sorted() where !present.contains(original) && !logged.isForgotten(tenant, original) {
            try forget(SnapshotID(hex: original)!, of: tenant, repository: repository, request: request.id)
        }

        try installation.store.discardIncompleteWrites(prefix: tenant.storePrefix)
        try requireEveryLoggedSnapshot(of: tenant, in: repository)
        let prune = try Pruner(repository: repository).run(maxUnusedPercent: 0, dryRun: false)
        // The originals' listings name the erased files (mail/alice@example.com/…): gone from
        // the catalog, and from its free pages. Not one of the certified checks: the catalog is
        // the home's, which H writes, and a check over it would let H fail a certificate.
        try installation.catalog().sync(repository)
        try installation.catalog().pruneTrees(tenant: tenant)
        try installation.catalog().compact()
        FaultPoint.reach("erase.pruned")

        let checks = try verify(repository: repository, filter: filter, replaced: replaced, ledgerVersion: request.ledgerVersion)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AuditTrail(installation).record("erase.purge", tenant: tenant, details: [
            "request": request.id, "document": Data(bytes).base64EncodedString(), "documentSHA256": Hex.encode(try SHA256.hash(bytes)),
            "snapshotsRewritten": String(rewrites.count),
            "rewritesSHA256": try ErasurePurge.digest(of: rewrites),
            "packsRepacked": String(prune.packsRepacked), "packsDeleted": String(prune.packsUnused + prune.packsRepacked),
            "bytesFreed": String(prune.bytesFreed), "blobsReplaced": String(replaced.count),
            "checks": String(decoding: try encoder.encode(checks), as: UTF8.self),
        ])
        let certificate = try ErasureCertificates(installation).certificate(for: request.id)
        return Result(
            request: request.id, tenant: tenant.rawValue, approvers: approvers.map(\.name), rewritten: rewrites,
            snapshotsUnaffected: unaffected, blobsReplaced: replaced.count, prune: prune, checks: checks, certificate: certificate.id)
    }

    /// SHA-256 (hex) of the rewrites as sorted `original>rewritten` lines joined by spaces:
    /// what the `erase.purge` entry records, as one entry cannot list thousands of snapshots
    /// (each has its own `erase.rewrite` entry).
    static func digest(of rewrites: [String: String]) throws -> String {
        Hex.encode(try SHA256.hash(Array(rewrites.map { "\($0.key)>\($0.value)" }.sorted().joined(separator: " ").utf8)))
    }

    /// Stops the purge, before it rewrites or prunes, while a snapshot the log holds (made and
    /// never forgotten) is absent from the store: one hidden by whoever writes the store would
    /// be neither rewritten nor kept alive, prune would delete its data, and the certificate
    /// would speak for snapshots it never saw. Integrity error (exit 3), naming each.
    private func requireEveryLoggedSnapshot(of tenant: TenantID, in repository: Repository) throws {
        let missing = LoggedSnapshots(try AuditTrail(installation).history()).compare(tenant, store: try repository.snapshotIDs()).missing
        guard missing.isEmpty else {
            throw LetheError.integrity("erasure purge stopped, nothing more changed: \(missing.joined(separator: "; "))")
        }
    }

    private func forget(_ original: SnapshotID, of tenant: TenantID, repository: Repository, request: String) throws {
        try repository.deleteSnapshot(original)
        try installation.catalog().removeSnapshot(tenant: tenant, id: original)
        try AuditTrail(installation).record("forget", tenant: tenant, details: [
            "removed": "1", "policy": "erasure purge \(request)", "snapshots": original.hex,
        ])
    }

    /// The purge's checks: every remaining snapshot holds nothing the rules remove; no index
    /// lists a blob the originals referenced for erased content that no snapshot references;
    /// the ledger is still in force for later backups.
    private func verify(repository: Repository, filter: ErasureFilter, replaced: Set<BlobID>, ledgerVersion: Int) throws -> [VerificationCheck] {
        var check = ErasureCheck(repository: repository, filter: filter)
        let snapshots = try repository.snapshots()
        for (_, snapshot) in snapshots { try check.check(snapshot) }
        try repository.loadIndex()
        let stillIndexed = replaced.filter { !check.referenced.contains($0) && repository.index.location(of: $0) != nil }
        let (ledger, _) = try ErasureLedgers(installation).load(repository.tenant, repository: repository)
        return [
            VerificationCheck(
                check: "every remaining snapshot holds nothing the rules remove", passed: check.findings.isEmpty,
                detail: "\(snapshots.count) snapshots, \(check.filesChecked) files checked (SQL: SELECT count(*) with the same WHERE and values)"
                    + (check.findings.isEmpty ? "" : "; " + check.findings.map { "\($0.path): \($0.problem)" }.joined(separator: "; "))),
            VerificationCheck(
                check: "no pack or index holds an erased blob", passed: stillIndexed.isEmpty,
                detail: "\(replaced.count) blobs of erased or changed content; \(stillIndexed.count) still indexed"),
            VerificationCheck(
                check: "the ledger stays in force for later backups", passed: ledger.version >= ledgerVersion,
                detail: "ledger version \(ledger.version), \(ledger.rules.count) rules applied to every restore and export"),
        ]
    }
}
