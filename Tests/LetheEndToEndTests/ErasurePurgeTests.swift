import Foundation
import LetheCore
import LetheCrypto
import LetheRepository
import LetheStore
import Testing

/// The purge, with the real binary: a DPO's approval over the purge document (made with
/// stock openssl), every snapshot rewritten, and then no decrypted blob of the repository
/// holding the person's email; killed at each step and resumed.
@Suite struct ErasurePurgeTests {
    typealias Tenant = ErasureCLITests.Tenant

    /// A tenant with two snapshots holding Alice, her erasure recorded, and authorizers.
    static func prepared() throws -> (E2EHome, Tenant, String) {
        let home = try E2EHome()
        let tenant = try Tenant(home)
        try tenant.backup()
        try tenant.add("erin@example.com", number: 4)
        try tenant.backup()
        #expect(tenant.eraseAlice().status == 0)
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")])
        let id = try #require((try home.lethe("erase", "list", "acme", "--json").json() as? [[String: Any]])?.first?["id"] as? String)
        return (home, tenant, id)
    }

    /// Signs the purge document with stock openssl and records the approval.
    static func approve(_ id: String, by name: String, in home: E2EHome) throws -> E2ERun {
        try home.write("\(home.root)/purge.json", home.lethe("erase", "show", id, "--raw").stdout)
        let sign = E2EHome.run("/usr/bin/openssl", [
            "pkeyutl", "-sign", "-rawin", "-inkey", "\(home.root)/\(name).pem", "-in", "\(home.root)/purge.json", "-out", "\(home.root)/\(name).sig",
        ])
        #expect(sign.status == 0, "\(sign.output)")
        return home.lethe("erase", "approve", id, "--authorizer", name, "--signature", "\(home.root)/\(name).sig")
    }

    /// Every blob of every pack of the tenant, decrypted, and every snapshot and index file:
    /// the names of those that hold `needle`.
    static func objectsHolding(_ needle: String, tenant: String, home: E2EHome) throws -> [String] {
        let installation = try Installation(home: Home(path: home.home))
        let repository = try installation.repository(for: try TenantID(tenant))
        let bytes = Array(needle.utf8)
        func holds(_ haystack: [UInt8]) -> Bool {
            guard haystack.count >= bytes.count else { return false }
            return (0...(haystack.count - bytes.count)).contains { haystack[$0..<($0 + bytes.count)].elementsEqual(bytes) }
        }
        var found: [String] = []
        var blobs = 0
        for object in try installation.store.list(prefix: repository.tenant.storePrefix) {
            switch Layout.classify(object.key, tenant: repository.tenant) {
            case .pack(let pack):
                let key = try repository.packKey(pack)
                let sealed = try installation.store.get(object.key)
                for entry in try repository.readPackHeader(pack).entries {
                    let range = entry.location.offset..<(entry.location.offset + entry.location.sealedLength)
                    let plaintext = try sealed[range].withUnsafeBytes { try repository.openBlob($0, id: entry.id, location: entry.location, packKey: key) }
                    blobs += 1
                    if holds(plaintext) { found.append("\(object.key) blob \(entry.id.short)") }
                }
            case .snapshot(let id):
                if holds(try repository.getSealed(kind: .snapshot, name: id.hex, at: object.key)) { found.append("\(object.key)") }
            case .index(let id):
                if holds(try repository.getSealed(kind: .index, name: id.hex, at: object.key)) { found.append("\(object.key)") }
            default:
                continue
            }
        }
        #expect(blobs > 10)
        return found
    }

    static func snapshotTimes(_ home: E2EHome) throws -> [String] {
        try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]]).map { $0["time"] as! String }.sorted()
    }

    /// S hides a snapshot while the purge runs: the purge stops before rewriting or pruning
    /// anything (exit 3, naming it), so the hidden snapshot's data survives; put back, it is
    /// whole, and the purge then completes over every snapshot.
    @Test func aSnapshotHiddenFromThePurgeStopsIt() throws {
        let (home, _, id) = try ErasurePurgeTests.prepared()
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        let folder = "\(home.store)/tenants/acme/snapshots"
        let hidden = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).sorted().first)
        try FileManager.default.moveItem(atPath: "\(folder)/\(hidden)", toPath: "\(home.root)/hidden")
        let stopped = home.lethe("erase", "purge", id)
        #expect(stopped.status == 3 && stopped.stderr.contains(String(hidden.prefix(8))), "\(stopped.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 1, "nothing was rewritten")
        try FileManager.default.moveItem(atPath: "\(home.root)/hidden", toPath: "\(folder)/\(hidden)")
        #expect(home.lethe("verify", "acme", "--read-data").status == 0)
        let run = home.lethe("erase", "purge", id, "--json")
        #expect(run.status == 0, "\(run.output)")
        #expect((try run.json() as? [String: Any])?["rewritten"].flatMap { $0 as? [String: String] }?.count == 2)
    }

    @Test func aPurgeNeedsADPOsApprovalOverItsDocument() throws {
        let (home, _, id) = try ErasurePurgeTests.prepared()
        let refused = home.lethe("erase", "purge", id)
        #expect(refused.status == 4 && refused.stderr.contains("DPO"), "\(refused.output)")
        // An officer's signature is valid but does not meet the policy; a signature over other bytes is refused.
        #expect(try ErasurePurgeTests.approve(id, by: "carl", in: home).status == 0)
        #expect(home.lethe("erase", "purge", id).status == 4)
        try home.write("\(home.root)/purge.json", "{}")
        _ = E2EHome.run("/usr/bin/openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", "\(home.root)/dana.pem", "-in", "\(home.root)/purge.json", "-out", "\(home.root)/bad.sig"])
        let forged = home.lethe("erase", "approve", id, "--authorizer", "dana", "--signature", "\(home.root)/bad.sig")
        #expect(forged.status == 4 && forged.stderr.contains("does not verify"))
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        #expect(home.lethe("erase", "purge", id).status == 0)
    }

    /// The authorizers set the purge policy in the registry they sign: with two approvals
    /// needed, Dana's alone no longer purges; Carl's makes it, and the certificate checks that
    /// its document states the registry's purge policy.
    @Test func thePurgePolicyIsTheRegistrys() throws {
        let home = try E2EHome()
        let tenant = try ErasureCLITests.Tenant(home)
        try tenant.backup()
        #expect(tenant.eraseAlice().status == 0)
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")], policy: ["--purge-required", "2", "--purge-minimum-dpos", "1"])
        #expect(home.lethe("authorizer", "list").stdout.contains("purge policy     2 distinct authorizers, at least 1 DPO"))
        let id = try #require((try home.lethe("erase", "list", "acme", "--json").json() as? [[String: Any]])?.first?["id"] as? String)
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        let refused = home.lethe("erase", "purge", id)
        #expect(refused.status == 4 && refused.stderr.contains("2 distinct authorizers"), "\(refused.output)")
        #expect(try ErasurePurgeTests.approve(id, by: "carl", in: home).status == 0)
        let run = home.lethe("erase", "purge", id, "--json")
        #expect(run.status == 0, "\(run.output)")
        let out = "\(home.root)/evidence"
        #expect(home.lethe("erase", "certificate", id, "--output", out).status == 0)
        let name = "ec-" + id.dropFirst(3)
        try home.write("\(out)/authorizers.txt", home.lethe("authorizer", "list", "--fingerprints").stdout)
        let verify = home.lethe("report", "verify", "--report", "\(out)/\(name).json", "--signature", "\(out)/\(name).sig",
                                "--public-key", "\(home.keys)/signing-key.pub.pem", "--authorizers", "\(out)/authorizers.txt", "--json")
        #expect(verify.status == 0, "\(verify.output)")
        let checks = try #require((try verify.json() as? [String: Any])?["checks"] as? [[String: Any]])
        #expect(checks.contains { $0["check"] as? String == "purge policy of the registry" && $0["passed"] as? Bool == true })
        #expect(checks.contains { $0["check"] as? String == "approval by carl" })
    }

    /// O, holding the tenant's key and the service key, swaps the value of the approved rules
    /// in the ledger (Erin's email for Alice's) and adds a request so that the ledger reads as
    /// one a crash left ahead of the log. The redacted rules read the same; the rules digest in
    /// the signed document does not, so Dana's approval no longer counts and nobody is purged.
    @Test func aRuleValueChangedAfterTheApprovalVoidsIt() throws {
        let (home, _, id) = try ErasurePurgeTests.prepared()
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        let before = home.lethe("erase", "show", id, "--raw").stdout
        do {
            let installation = try Installation(home: Home(path: home.home))
            let acme = try TenantID("acme")
            let repository = try installation.repository(for: acme)
            let key = Layout.erasureLedger(acme)
            let sealed = try installation.store.get(key)
            let plaintext = try repository.getSealed(kind: .erasureLedger, name: "acme", at: key)
            let swapped = String(decoding: plaintext, as: UTF8.self).replacingOccurrences(of: ErasureCLITests.alice, with: "erin@example.com")
            var ledger = try #require(try JSONSerialization.jsonObject(with: Data(swapped.utf8)) as? [String: Any])
            var requests = try #require(ledger["requests"] as? [[String: Any]])
            var second = requests[0]
            second["id"] = "er-20261201-00000000"
            second["ledgerVersion"] = 2
            requests.append(second)
            ledger["requests"] = requests
            ledger["version"] = 2
            ledger["previous"] = Hex.encode(try SHA256.hash(sealed))
            _ = try repository.putSealed(
                Array(try JSONSerialization.data(withJSONObject: ledger, options: [.sortedKeys])), kind: .erasureLedger, name: "acme", at: key)
        }
        let after = home.lethe("erase", "show", id, "--raw").stdout
        #expect(after != before && !after.contains("erin"), "the document changed, and names nobody")
        let refused = home.lethe("erase", "purge", id)
        #expect(refused.status == 4 && refused.stderr.contains("approval"), "\(refused.output)")
        #expect(try !ErasurePurgeTests.objectsHolding("erin@example.com", tenant: "acme", home: home).isEmpty, "Erin's data is untouched")
    }

    @Test func afterAPurgeNoDecryptedBlobHoldsTheEmailAndEverySnapshotStaysWhole() throws {
        let (home, tenant, id) = try ErasurePurgeTests.prepared()
        #expect(try !ErasurePurgeTests.objectsHolding(ErasureCLITests.alice, tenant: "acme", home: home).isEmpty)
        let times = try ErasurePurgeTests.snapshotTimes(home)
        // Her mail folder is named after her: the ledger keeps it out of listings at once,
        // though the catalog still holds the originals' listings until the purge.
        #expect(home.lethe("ls", "latest", "mail", "--tenant", "acme").stdout.contains("erin@example.com"))
        #expect(!home.lethe("ls", "latest", "mail", "--tenant", "acme").stdout.contains(ErasureCLITests.alice))
        #expect(home.lethe("ls", "latest", "mail/\(ErasureCLITests.alice)", "--tenant", "acme").status == 2)
        #expect(E2EHome.run("/bin/grep", ["-rlF", ErasureCLITests.alice, home.home, "--include=catalog.sqlite*"]).stdout != "")
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        let run = home.lethe("erase", "purge", id, "--json")
        #expect(run.status == 0, "\(run.output)")
        let result = try #require(try run.json() as? [String: Any])
        #expect((result["rewritten"] as? [String: String])?.count == 2)
        #expect((result["checks"] as? [[String: Any]])?.count == 3 && (result["checks"] as? [[String: Any]])?.allSatisfy { $0["passed"] as? Bool == true } == true)
        #expect(try ErasurePurgeTests.objectsHolding(ErasureCLITests.alice, tenant: "acme", home: home) == [])
        // Nor does the catalog, in its rows or its free pages.
        #expect(E2EHome.run("/bin/grep", ["-rlF", ErasureCLITests.alice, home.home, "--include=catalog.sqlite*"]).stdout == "")
        #expect(try ErasurePurgeTests.snapshotTimes(home) == times)
        #expect(home.lethe("verify", "acme", "--read-data").status == 0)
        // Restored, each rewritten snapshot is what the ledger gave before the purge.
        let rows = try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]]).sorted { ($0["time"] as! String) < ($1["time"] as! String) }
        for (row, snapshot) in zip(rows, tenant.snapshots) {
            let target = "\(home.root)/after-\(row["id"] as! String)"
            #expect(home.lethe("restore", "acme", row["id"] as! String, "--target", target).status == 0)
            try ErasureCLITests.checkErased(target, copy: snapshot.copy, directory: home.root)
        }
        // The ledger stays in force: a later backup still holding her is filtered on restore.
        try tenant.backup()
        let later = "\(home.root)/later"
        #expect(home.lethe("restore", "acme", "--target", later).status == 0)
        try ErasureCLITests.checkErased(later, copy: tenant.snapshots.last!.copy, directory: home.root)
        #expect(E2EHome.run("/bin/grep", ["-rl", ErasureCLITests.alice, "\(home.store)/audit"]).stdout == "")
        // A rewritten snapshot is a logged one: deleting it from the store is an integrity violation.
        let rewritten = try #require((result["rewritten"] as? [String: String])?.values.sorted().first)
        try FileManager.default.removeItem(atPath: "\(home.store)/tenants/acme/snapshots/\(rewritten)")
        let verify = home.lethe("verify", "acme")
        #expect(verify.status == 3 && verify.stdout.contains(rewritten), "\(verify.output)")
    }

    @Test(arguments: ["erase.rewrite-stored", "erase.rewrite-stored#2", "erase.original-forgotten", "erase.original-forgotten#2", "erase.pruned"])
    func aPurgeKilledAtAnyStepLeavesEverySnapshotRestorableAndCompletesWhenRunAgain(_ point: String) throws {
        let (home, tenant, id) = try ErasurePurgeTests.prepared()
        let times = try ErasurePurgeTests.snapshotTimes(home)
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        let crashed = home.lethe(["erase", "purge", id], environment: ["LETHE_CRASH_AT": point])
        #expect(crashed.status == 86, "\(crashed.output)")
        for row in try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]]) {
            let target = "\(home.root)/mid-\(row["id"] as! String)"
            let restore = home.lethe("restore", "acme", row["id"] as! String, "--target", target)
            #expect(restore.status == 0, "\(restore.output)")
            #expect(E2EHome.run("/bin/grep", ["-rl", ErasureCLITests.alice, target]).stdout == "")
        }
        let resumed = home.lethe("erase", "purge", id)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(try ErasurePurgeTests.objectsHolding(ErasureCLITests.alice, tenant: "acme", home: home) == [])
        #expect(try ErasurePurgeTests.snapshotTimes(home) == times)
        #expect(home.lethe("verify", "acme").status == 0)
        _ = tenant
    }
}
