import Foundation
import LetheKeys
import LetheRepository
import LetheStore

/// The checks that prove a destruction took effect, each recorded with its result.
struct DestructionVerifier {
    let installation: Installation
    let tenant: TenantID
    let requestID: String
    let evidence: StartEvidence

    func run() throws -> [VerificationCheck] {
        [try storeIsEmpty(), try keystoreHasNoEntry(), try previousEpochIsGone(), try sampleDoesNotDecrypt(),
         try catalogHasNoRows(), cachesAreCleared()]
    }

    /// No object, no old version and no delete marker under the tenant's prefix (on S3,
    /// `ListObjectVersions` under it is empty), no lock, and nothing else the store holds there.
    private func storeIsEmpty() throws -> VerificationCheck {
        let store = installation.store
        let left = try store.versions(prefix: tenant.storePrefix).count + store.versions(prefix: Layout.lockPrefix(tenant)).count
            + store.list(prefix: tenant.storePrefix).count
        // An empty folder of the tenant's locks is a trace too (a crash between removing the
        // last lock and its folder leaves one).
        let remainder = try store.remainder(prefix: tenant.storePrefix) + store.remainder(prefix: Layout.lockPrefix(tenant))
        let versioning = try store.versioning()
        let listing = versioning == .unversioned ? "lists no object" : "lists no object, no object version and no delete marker"
        return VerificationCheck(
            check: "nothing left under the tenant's prefix", passed: left == 0 && remainder.isEmpty,
            detail: left == 0 && remainder.isEmpty
                ? "\(store.location)/\(tenant.storePrefix)/ \(listing), and holds nothing else; no lock remains"
                : "\(Plural.count(left, "object or version", "objects or versions")) remain\(left == 1 ? "s" : "")" + (remainder.isEmpty ? "" : "; also left: " + remainder.prefix(5).joined(separator: ", ")))
    }

    private func keystoreHasNoEntry() throws -> VerificationCheck {
        let keystore = try installation.keystore()
        let present = try keystore.keyInfo(for: tenant) != nil
        return VerificationCheck(
            check: "no keystore entry", passed: !present,
            detail: present ? "the keystore still holds a DEK for \(tenant)" : "\(keystore.path) holds no key for \(tenant)")
    }

    private func previousEpochIsGone() throws -> VerificationCheck {
        let keystore = try installation.keystore()
        let status = try keystore.status()
        let before = KEKEpoch(evidence.kekEpochBefore)
        let gone = !status.epochsPresent.contains(before) && status.epoch > before
        return VerificationCheck(
            check: "previous KEK epoch destroyed", passed: gone,
            detail: "the KEK provider now holds the key of \(status.epochsPresent.count == 1 ? "epoch" : "epochs") "
                + "\(status.epochsPresent.map(\.description).joined(separator: ", ")) only; the key of epoch \(before) "
                + (gone ? "no longer exists in \(status.kekLocation)" : "still exists"))
    }

    /// The kept ciphertext must not open with any DEK the service still holds, and its original
    /// object must be gone.
    private func sampleDoesNotDecrypt() throws -> VerificationCheck {
        let check = "a kept ciphertext sample no longer decrypts"
        guard let sample = try? installation.store.get(DestructionRequests.sampleKey(requestID)),
              let original = try? ObjectKey(evidence.sampleObject) else {
            return VerificationCheck(check: check, passed: false, detail: "the sample was not kept")
        }
        let (kind, name): (ObjectKind, String)
        switch Layout.classify(original, tenant: tenant) {
        case .snapshot(let id): (kind, name) = (.snapshot, id.hex)
        case .index(let id): (kind, name) = (.index, id.hex)
        case .erasureLedger: (kind, name) = (.erasureLedger, tenant.rawValue)
        default: (kind, name) = (.tenantRecord, tenant.rawValue)
        }
        let keystore = try installation.keystore()
        var opened: [String] = []
        let holders = try keystore.tenants()
        for holder in holders {
            let key = try keystore.unwrapKey(for: holder)
            if sealedObjectOpens(sample, kind: kind, name: name, tenant: tenant, key: key) { opened.append(holder.rawValue) }
        }
        let originalGone = try !installation.store.exists(original)
        return VerificationCheck(
            check: check, passed: opened.isEmpty && originalGone,
            detail: opened.isEmpty
                ? "the sample of \(original) (\(sample.count) bytes) "
                    + (holders.isEmpty ? "has no key left to open it (the service holds no tenant key); "
                        : "failed authentication under \(holders.count == 1 ? "the one key" : "all \(holders.count) keys") the service holds; ")
                    + (originalGone ? "the original object is gone" : "but the original object still exists")
                : "the sample opens with the key of \(opened.joined(separator: ", "))")
    }

    private func catalogHasNoRows() throws -> VerificationCheck {
        let rows = try installation.catalog().rowsMentioning(tenant)
        return VerificationCheck(
            check: "no catalog rows", passed: rows.isEmpty,
            detail: rows.isEmpty
                ? "\(installation.home.catalogPath) has no rows for \(tenant) (secure_delete on, WAL checkpointed, vacuumed); only its tombstone remains"
                : "rows remain: " + rows.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", "))
    }

    private func cachesAreCleared() -> VerificationCheck {
        let leftovers = DestructionExecutor.localLeftovers(of: tenant, home: installation.home)
        return VerificationCheck(
            check: "caches and temporary files removed", passed: leftovers.isEmpty,
            detail: leftovers.isEmpty ? "no cache or temporary file of \(tenant) under \(installation.home.path)" : "left: \(leftovers.joined(separator: ", "))")
    }
}
