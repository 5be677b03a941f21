import Foundation
import Testing

/// Audited destruction through the CLI: approvals made by lethe and by stock openssl, every
/// refusal, kill-and-resume at each step, the report checked with the commands of
/// docs/auditors.md, and the audit log's tamper evidence.
@Suite struct DestructionCLITests {
    static let openssl = "/usr/bin/openssl"

    func at(_ days: Double) -> [String: String] {
        let start = ISO8601DateFormatter().date(from: "2026-03-01T02:00:00Z")!
        return ["LETHE_NOW": ISO8601DateFormatter().string(from: start.addingTimeInterval(days * 86_400))]
    }

    /// A home with tenants acme (offboarded, window 1 day) and globex, both backed up (acme
    /// `acmeBackups` more times, one file changed before each), and two authorizers whose keys
    /// openssl made: dana (DPO) and carl (officer).
    func prepared(acmeBackups: Int = 0) throws -> E2EHome {
        let home = try E2EHome()
        try home.addTenant("acme")
        try home.addTenant("globex")
        #expect(home.lethe(["backup", "--all"], environment: at(0)).status == 0)
        for round in 0..<acmeBackups {
            try home.write("\(home.data)/acme/docs/round.txt", "round \(round)\n")
            #expect(home.lethe(["backup", "acme"], environment: at(0)).status == 0)
        }
        #expect(home.lethe(["tenant", "offboard", "acme", "--window-days", "1"], environment: at(0)).status == 0)
        for who in ["dana", "carl", "mallory"] {
            #expect(E2EHome.run(Self.openssl, ["genpkey", "-algorithm", "ed25519", "-out", "\(home.root)/\(who).pem"]).status == 0)
            #expect(E2EHome.run(Self.openssl, ["pkey", "-in", "\(home.root)/\(who).pem", "-pubout", "-out", "\(home.root)/\(who).pub.pem"]).status == 0)
        }
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")])
        return home
    }

    func request(_ home: E2EHome, days: Double = 2) throws -> String {
        let run = home.lethe(["destroy", "request", "acme", "--reason", "retention-expired", "--json"], environment: at(days))
        #expect(run.status == 0, "\(run.output)")
        return try #require((try run.json() as? [String: Any])?["id"] as? String)
    }

    /// carl's signature over the exact request bytes, made by openssl.
    func opensslSignature(_ home: E2EHome, _ id: String, key: String = "carl") throws -> String {
        let raw = home.lethe("destroy", "show", id, "--raw")
        try home.write("\(home.root)/\(id).json", raw.stdout)
        let signature = "\(home.root)/\(key)-\(id).sig"
        let sign = E2EHome.run(Self.openssl, ["pkeyutl", "-sign", "-rawin", "-inkey", "\(home.root)/\(key).pem", "-in", "\(home.root)/\(id).json", "-out", signature])
        #expect(sign.status == 0, "\(sign.output)")
        return signature
    }

    func approved(_ home: E2EHome) throws -> String {
        let id = try request(home)
        #expect(home.lethe(["destroy", "approve", id, "--key", "\(home.root)/dana.pem"], environment: at(2)).status == 0)
        let signature = try opensslSignature(home, id)
        #expect(home.lethe(["destroy", "approve", id, "--authorizer", "carl", "--signature", signature], environment: at(2)).status == 0)
        return id
    }

    // MARK: The whole path

    @Test func destructionByTwoAuthorizersIsVerifiedAndReported() throws {
        let home = try prepared()
        let id = try approved(home)
        #expect(home.lethe(["destroy", "execute", id], environment: at(2.5)).status == 4, "the 24-hour grace period runs")
        let run = home.lethe(["destroy", "execute", id], environment: at(3.1))
        #expect(run.status == 0, "\(run.output)")
        #expect(home.objects("tenants/acme").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(home.store)/tenants/acme"))
        let status = try #require(try home.lethe("keys", "status", "--json").json() as? [String: Any])
        #expect(status["kekEpoch"] as? Int == 2 && status["kekEpochsPresent"] as? [Int] == [2] && status["tenantKeys"] as? Int == 1)
        let report = "rpt-" + id.dropFirst(3)
        #expect(home.lethe("report", "verify", report).status == 0)
        #expect(home.lethe("audit", "prove", report).status == 0)
        #expect(home.lethe("audit", "verify").status == 0)
        // After destruction, everything about the tenant is refused and names the report.
        let restore = home.lethe("restore", "acme", "--target", "\(home.root)/r")
        #expect(restore.status == 4 && restore.stderr.contains(report))
        let backup = home.lethe("backup", "acme")
        #expect(backup.status == 4 && backup.stderr.contains(report))
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(home.data)/globex").status == 4)
        // The other tenant is untouched.
        #expect(home.lethe("verify", "globex", "--read-data").status == 0)
        #expect(home.lethe("restore", "globex", "--target", "\(home.root)/g").status == 0)
        // Running it again changes nothing.
        let before = home.objects("reports")
        #expect(home.lethe(["destroy", "execute", id], environment: at(4)).stdout.contains("Already destroyed"))
        #expect(home.objects("reports") == before)
        // The report survives the loss of the catalog, and destroyed tenants stay refused.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: "\(home.home)/catalog.sqlite\(suffix)") }
        #expect(home.lethe("index", "rebuild").status == 0)
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/r2").stderr.contains(report))
        #expect(home.lethe("report", "list").stdout.contains(report))
    }

    /// Runs the ```sh block of docs/auditors.md, exactly as written, in an evidence bundle.
    @Test func auditorsGuideCommandsVerifyTheReportAndCatchATamperedOne() throws {
        let home = try prepared()
        let id = try approved(home)
        #expect(home.lethe(["destroy", "execute", id], environment: at(3.1)).status == 0)
        let report = "rpt-" + id.dropFirst(3)
        let evidence = "\(home.root)/evidence"
        #expect(home.lethe("report", "export", report, "--output", evidence).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(evidence)/signing-key.pub.pem"), "the bundle never carries the key that checks it")
        // What the auditor holds already, from the operator, out of band.
        try FileManager.default.copyItem(atPath: "\(home.keys)/signing-key.pub.pem", toPath: "\(evidence)/signing-key.pub.pem")
        try home.write("\(evidence)/authorizers.txt", home.lethe("authorizer", "list", "--fingerprints").stdout)
        let guide = try String(contentsOfFile: "\(E2EHome.repository)/docs/auditors.md", encoding: .utf8)
        let blocks = guide.components(separatedBy: "```sh\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        try #require(blocks.count >= 2)
        let script = "set -euo pipefail\n" + blocks[0]
        // Only the system's programs: no Lethe binary on PATH.
        let system = ["REPORT": report, "PATH": "/usr/bin:/bin"]
        let run = E2EHome.shell(script, directory: evidence, environment: system)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.components(separatedBy: "Signature Verified Successfully").count - 1 == 4, "report, two approvals, checkpoint")
        #expect(run.stdout.contains("is in the log of") && run.stdout.contains("the inventory digest covers"), "checks 6 and 7 ran: \(run.output)")
        // Check 2 prints the fingerprint the report names.
        let fingerprint = try #require(try home.lethe("keys", "status", "--json").json() as? [String: Any])["signingKeyFingerprint"] as? String
        #expect(run.stdout.contains(String(fingerprint!.dropFirst(7))))
        // Check 6 prints the leaf hash that starts the report's inclusion proof.
        let proof = try #require(try home.lethe("audit", "prove", report, "--json").json() as? [String: Any])
        #expect(run.stdout.contains(proof["leafHash"] as! String))
        // An edited inventory or audit entry beside a genuine report: checks 6 and 7 catch them.
        for (file, from, to, says) in [("inventory.txt", "tenants/acme", "tenants/acmf", "NOT the report's inventory"),
                                       ("audit-entry.json", "destroy.execute", "destroy.executf", "NOT the report's")] {
            let path = "\(evidence)/\(file)"
            let original = try String(contentsOfFile: path, encoding: .utf8)
            try #require(original.contains(from))
            try original.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
            let edited = E2EHome.shell(script, directory: evidence, environment: system)
            #expect(edited.status != 0 && edited.stderr.contains(says), "\(file): \(edited.output)")
            try original.write(toFile: path, atomically: true, encoding: .utf8)
        }
        // One byte changed in the report: check 1 fails.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(evidence)/\(report).json")))
        let position = bytes.firstIndex(of: UInt8(ascii: "3")) ?? 100
        bytes[position] = bytes[position] == UInt8(ascii: "3") ? UInt8(ascii: "4") : UInt8(ascii: "3")
        try Data(bytes).write(to: URL(fileURLWithPath: "\(evidence)/\(report).json"))
        let tampered = E2EHome.shell(script, directory: evidence, environment: system)
        #expect(tampered.status != 0)
        #expect(tampered.output.contains("Signature Verification Failure"))
        let offline = home.lethe("report", "verify", "--report", "\(evidence)/\(report).json", "--signature", "\(evidence)/\(report).sig",
                                 "--public-key", "\(evidence)/signing-key.pub.pem", "--authorizers", "\(evidence)/authorizers.txt")
        #expect(offline.status == 3)
    }

    /// Runs the second ```sh block of docs/auditors.md, exactly as written, on a copy of the
    /// store's audit folder: the log read as static files with openssl and python3.
    @Test func auditorsGuideReadsTheLogAsStaticFilesAndCatchesAnEdit() throws {
        let home = try prepared()
        let folder = "\(home.root)/auditor"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(home.store)/audit", toPath: "\(folder)/audit")
        try FileManager.default.copyItem(atPath: "\(home.keys)/signing-key.pub.pem", toPath: "\(folder)/signing-key.pub.pem")
        let guide = try String(contentsOfFile: "\(E2EHome.repository)/docs/auditors.md", encoding: .utf8)
        let blocks = guide.components(separatedBy: "```sh\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        try #require(blocks.count >= 2)
        let script = "set -euo pipefail\n" + blocks[1]
        let run = E2EHome.shell(script, directory: folder, environment: [:])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains("Signature Verified Successfully") && run.stderr.contains("entries reproduce the signed root"), "\(run.output)")
        #expect(run.stdout.contains(#""operation":"tenant.add""#), "acme's entries are listed")
        // One entry edited (same length, so the bundle still parses): the root no longer matches.
        let bundle = try #require(home.objects("audit/tile/entries").first).replacingOccurrences(of: "audit/", with: "\(folder)/audit/", options: .anchored)
        let edited = try String(contentsOfFile: bundle, encoding: .isoLatin1).replacingOccurrences(of: "e2e-tester", with: "e2e-hacker")
        try edited.write(toFile: bundle, atomically: true, encoding: .isoLatin1)
        let tampered = E2EHome.shell(script, directory: folder, environment: [:])
        #expect(tampered.status != 0 && tampered.stderr.contains("do NOT reproduce the signed root"), "\(tampered.output)")
    }

    @Test func nightlyRunExecutesApprovedRequestsOnlyAfterTheirGracePeriod() throws {
        let home = try prepared()
        let id = try approved(home)
        let during = try #require(try home.lethe(["nightly", "--json"], environment: at(2.5)).json() as? [String: Any])
        #expect((during["destructionsExecuted"] as? [Any])?.isEmpty == true)
        #expect(!home.objects("tenants/acme").isEmpty)
        let after = try #require(try home.lethe(["nightly", "--json"], environment: at(3.5)).json() as? [String: Any])
        #expect((after["destructionsExecuted"] as? [[String: Any]])?.first?["tenant"] as? String == "acme")
        #expect(home.objects("tenants/acme").isEmpty)
        #expect(home.lethe("report", "verify", "rpt-" + id.dropFirst(3)).status == 0)
    }

    // MARK: Refusals (exit 4, nothing changed)

    @Test func requestRefusals() throws {
        let home = try prepared()
        let inside = home.lethe(["destroy", "request", "acme", "--reason", "retention-expired"], environment: at(0.5))
        #expect(inside.status == 4 && inside.stderr.contains("window"))
        let active = home.lethe(["destroy", "request", "globex", "--reason", "retention-expired"], environment: at(2))
        #expect(active.status == 4)
        #expect(home.lethe(["destroy", "request", "globex", "--reason", "client-request"], environment: at(2)).status == 0)
        #expect(home.lethe(["destroy", "request", "acme", "--reason", "because"], environment: at(2)).status == 2)
        #expect(home.lethe(["tenant", "hold", "acme", "--reason", "litigation"], environment: at(2)).status == 0)
        let held = home.lethe(["destroy", "request", "acme", "--reason", "retention-expired"], environment: at(2))
        #expect(held.status == 4 && held.stderr.contains("legal hold"))
    }

    @Test func approvalRefusalsChangeNothing() throws {
        let home = try prepared()
        let id = try request(home)
        func approvals() throws -> Int {
            let detail = try #require(try home.lethe("destroy", "show", id, "--json").json() as? [String: Any])
            return ((detail["state"] as? [String: Any])?["approvals"] as? [Any])?.count ?? -1
        }
        let unregistered = home.lethe(["destroy", "approve", id, "--key", "\(home.root)/mallory.pem"], environment: at(2))
        #expect(unregistered.status == 4)
        let mallory = try opensslSignature(home, id, key: "mallory")
        #expect(home.lethe(["destroy", "approve", id, "--authorizer", "mallory", "--signature", mallory], environment: at(2)).status == 4)
        #expect(home.lethe(["destroy", "approve", id, "--authorizer", "carl", "--signature", mallory], environment: at(2)).status == 4,
                "a signature by another key")
        try home.write("\(home.root)/other.json", "{\"other\": true}")
        let other = "\(home.root)/other.sig"
        _ = E2EHome.run(Self.openssl, ["pkeyutl", "-sign", "-rawin", "-inkey", "\(home.root)/carl.pem", "-in", "\(home.root)/other.json", "-out", other])
        #expect(home.lethe(["destroy", "approve", id, "--authorizer", "carl", "--signature", other], environment: at(2)).status == 4,
                "a signature over other bytes")
        #expect(try approvals() == 0)
        #expect(home.lethe(["destroy", "approve", id, "--key", "\(home.root)/dana.pem"], environment: at(2)).status == 0)
        #expect(home.lethe(["destroy", "approve", id, "--key", "\(home.root)/dana.pem"], environment: at(2)).status == 4, "twice")
        #expect(home.lethe(["destroy", "execute", id], environment: at(9)).status == 4, "one approval is not enough")
        // The inventory changes: an object appears under the tenant's prefix.
        let snapshot = try #require(home.objects("tenants/acme/snapshots").first)
        try FileManager.default.copyItem(atPath: "\(home.store)/\(snapshot)", toPath: "\(home.store)/\(snapshot.dropLast(4))beef")
        let changed = home.lethe(["destroy", "approve", id, "--authorizer", "carl", "--signature", try opensslSignature(home, id)], environment: at(2))
        #expect(changed.status == 4 && changed.stderr.contains("changed"))
        #expect(try approvals() == 1)
    }

    @Test func cancellationDuringTheGracePeriodTouchesNothing() throws {
        let home = try prepared()
        let id = try approved(home)
        #expect(home.lethe(["destroy", "cancel", id], environment: at(2.5)).status == 2, "a reason is required")
        #expect(home.lethe(["destroy", "cancel", id, "--reason", "client returned"], environment: at(2.5)).status == 0)
        #expect(home.lethe(["destroy", "execute", id], environment: at(5)).status == 4)
        #expect(home.lethe(["destroy", "cancel", id, "--reason", "again"], environment: at(5)).status == 4)
        #expect(home.lethe("verify", "acme", "--read-data").status == 0)
        #expect(home.lethe(["tenant", "reactivate", "acme"], environment: at(5)).status == 0)
    }

    // MARK: Kill and resume

    @Test(arguments: ["destroy.block", "ratchet.epoch-created", "ratchet.keystore-written", "destroy.revoke-key",
                      "destroy.delete-objects", "destroy.purge-catalog", "destroy.clear-caches", "destroy.verify", "destroy.report"])
    func executionKilledAtAnyStepResumesToTheSameEnd(point: String) throws {
        let home = try prepared()
        let id = try approved(home)
        let crashed = home.lethe(["destroy", "execute", id], environment: at(3.1).merging(["LETHE_CRASH_AT": point]) { $1 })
        #expect(crashed.status == 86, "\(crashed.output)")
        let blocked = home.lethe(["backup", "acme"], environment: at(3.2))
        #expect(blocked.status == 4 && blocked.stderr.contains("acme"), "the tenant stays blocked, said on stderr: \(blocked.output)")
        let resumed = home.lethe(["destroy", "execute", id], environment: at(3.2))
        #expect(resumed.status == 0, "\(resumed.output)")
        let report = "rpt-" + id.dropFirst(3)
        #expect(home.lethe("report", "verify", report).status == 0)
        #expect(home.objects("tenants/acme").isEmpty)
        let status = try #require(try home.lethe("keys", "status", "--json").json() as? [String: Any])
        #expect(status["kekEpochsPresent"] as? [Int] == [2], "exactly one ratchet, old epoch gone")
        #expect(home.lethe("audit", "verify").status == 0)
        let log = try #require(try home.lethe("audit", "log", "--json").json() as? [[String: Any]])
        #expect(log.filter { $0["operation"] as? String == "destroy.execute" }.count == 1)
        #expect(home.lethe("restore", "globex", "--target", "\(home.root)/g").status == 0)
    }

    // MARK: Audit log

    @Test func editedAuditEntryIsDetected() throws {
        let home = try prepared()
        let bundle = try #require(home.objects("audit/tile/entries").first)
        let path = "\(home.store)/\(bundle)"
        // The same length, so that the bundle still parses: only the tree can tell.
        let edited = try String(contentsOfFile: path, encoding: .isoLatin1).replacingOccurrences(of: "e2e-tester", with: "e2e-hacker")
        try edited.write(toFile: path, atomically: true, encoding: .isoLatin1)
        let run = home.lethe("audit", "verify")
        #expect(run.status == 3 && run.stdout.contains("does not match"), "\(run.output)")
    }

    @Test func deletedAuditEntryIsDetected() throws {
        let home = try prepared()
        let bundle = try #require(home.objects("audit/tile/entries").first)
        try FileManager.default.removeItem(atPath: "\(home.store)/\(bundle)")
        let run = home.lethe("audit", "verify")
        #expect(run.status == 3 && run.stdout.contains("missing"), "\(run.output)")
    }
}
