import Foundation
import Testing

/// Issue 9's findings that show at the command line, each reproduced against the real binary.
@Suite struct TrustRegressionTests {
    // MARK: Finding 10: a closed pipe

    @Test func writingToAReaderThatHasGoneEndsQuietly() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        for _ in 0..<3 { home.lethe("backup", "--all") }
        // The reader closes its end before reading anything: every write of lethe hits EPIPE.
        for command in ["audit log", "--help", "audit log --json"] {
            let run = E2EHome.shell(
                "\(E2EHome.binary) \(command) | { exec 0<&-; sleep 0.5; }; echo \"status ${PIPESTATUS[0]}\"",
                directory: home.root, environment: ["LETHE_HOME": home.home])
            #expect(run.stdout.contains("status 0"), "\(command): \(run.output)")
            #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Backtrace") && !run.stderr.contains("Crash"), "\(command): \(run.stderr)")
        }
    }

    // MARK: Finding 12: data left without its audit entry

    @Test func withoutTheSigningKeyNeitherABackupNorARestoreHappens() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        let snapshots = home.objects("tenants/acme/snapshots")
        let entries = home.objects("audit/tile")
        try FileManager.default.moveItem(atPath: "\(home.keys)/signing-key.pem", toPath: "\(home.root)/signing-key.pem")
        let backup = home.lethe("backup", "acme")
        #expect(backup.status != 0 && backup.stderr.contains("signing-key.pem"), "\(backup.output)")
        #expect(home.objects("tenants/acme/snapshots") == snapshots, "no snapshot was committed")
        let restore = home.lethe("restore", "acme", "--target", "\(home.root)/out")
        #expect(restore.status != 0 && restore.stderr.contains("signing-key.pem"), "\(restore.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(home.root)/out/docs"), "no data left before its audit entry")
        #expect(!entries.isEmpty && home.objects("audit/tile") == entries, "nothing was logged")
        try FileManager.default.moveItem(atPath: "\(home.root)/signing-key.pem", toPath: "\(home.keys)/signing-key.pem")
        #expect(home.lethe("audit", "verify").status == 0)
    }

    @Test func aRestoreIsLoggedBeforeAnyFileIsWritten() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        // Killed at the first file: the restore entry is already in the log.
        let crashed = home.lethe(["restore", "acme", "--target", "\(home.root)/out"], environment: ["LETHE_CRASH_AT": "audit.checkpoint-written#1"])
        #expect(crashed.status == 86)
        let log = try #require(try home.lethe("audit", "log", "--json").json() as? [[String: Any]])
        #expect(log.last?["operation"] as? String == "restore")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: "\(home.root)/out")) ?? [] == [], "nothing written before the entry was durable")
    }

    // MARK: Finding 11: deleted history

    @Test func aSnapshotDeletedFromTheStoreIsAnIntegrityViolationNamingIt() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe(["backup", "acme"], environment: ["LETHE_NOW": "2026-03-01T02:00:00Z"]).status == 0)
        #expect(home.lethe(["backup", "acme"], environment: ["LETHE_NOW": "2026-03-02T02:00:00Z"]).status == 0)
        let snapshot = try #require(home.objects("tenants/acme/snapshots").first)
        try FileManager.default.removeItem(atPath: "\(home.store)/\(snapshot)")
        let verify = home.lethe("verify", "acme")
        #expect(verify.status == 3, "\(verify.output)")
        #expect(verify.stdout.contains(snapshot) && verify.stdout.contains("missing from the store"), "\(verify.stdout)")
    }

    @Test func aGenuineSnapshotTheLogMissedIsRecordedNotFlagged() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        // Killed between writing the snapshot and logging the backup.
        let crashed = home.lethe(["backup", "acme"], environment: ["LETHE_CRASH_AT": "backup.snapshot-written"])
        #expect(crashed.status == 86)
        let verify = home.lethe("verify", "acme")
        #expect(verify.status == 0 && verify.stdout.contains("logged now"), "\(verify.output)")
        let log = try #require(try home.lethe("audit", "log", "--json").json() as? [[String: Any]])
        #expect(log.contains { $0["operation"] as? String == "backup.recovered" })
        #expect(home.lethe("verify", "acme").status == 0)
    }

    // MARK: Findings 3 and 6 at the command line

    @Test func theServiceKeyAloneChangesNoAuthorizer() throws {
        let home = try E2EHome()
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")])
        _ = E2EHome.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", "\(home.root)/mallory.pem"])
        _ = E2EHome.run("/usr/bin/openssl", ["pkey", "-in", "\(home.root)/mallory.pem", "-pubout", "-out", "\(home.root)/mallory.pub.pem"])
        #expect(home.lethe("authorizer", "add", "mallory", "--role", "dpo", "--public-key", "\(home.root)/mallory.pub.pem").status == 0)
        #expect(home.lethe("authorizer", "sign", "--key", "\(home.root)/mallory.pem").status == 0, "mallory's own signature is collected")
        let list = home.lethe("authorizer", "list", "--fingerprints").stdout
        #expect(list.split(separator: "\n").count == 2, "mallory is only proposed: \(list)")
    }

    @Test func anOfflineReportCheckNeedsKeysFromOutsideTheReport() throws {
        let home = try E2EHome()
        let run = home.lethe("report", "verify", "--report", "x.json", "--signature", "x.sig")
        #expect(run.status == 2 && run.stderr.contains("out of band"), "\(run.output)")
        let keyOnly = home.lethe("report", "verify", "--report", "x.json", "--signature", "x.sig", "--public-key", "\(home.keys)/signing-key.pub.pem")
        #expect(keyOnly.status == 2 && keyOnly.stderr.contains("--authorizer"), "\(keyOnly.output)")
    }

    // MARK: Item 7 at the command line

    @Test func theCatalogIsReadableByTheServiceUserOnly() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        home.lethe("backup", "acme")
        let mode = try FileManager.default.attributesOfItem(atPath: "\(home.home)/catalog.sqlite")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}

/// Issue 14, finding 8: homes are movable.
@Suite struct MovableHomeTests {
    @Test func aCopiedHomeUsesItsOwnStoreAndKeys() throws {
        let home = try E2EHome(initialize: false)
        #expect(home.lethe("init").status == 0, "store and keys inside the home, by default")
        try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        let copy = "\(home.root)/copy"
        #expect(E2EHome.run("/bin/cp", ["-a", home.home, copy]).status == 0)
        let config = try String(contentsOfFile: "\(copy)/lethe.json", encoding: .utf8)
        #expect(config.contains(#""storeDirectory" : "store""#) && config.contains(#""keysDirectory" : "keys""#), "\(config)")
        let before = home.objects("tenants/acme/snapshots")
        #expect(home.lethe(["backup", "acme"], environment: ["LETHE_HOME": copy]).status == 0)
        #expect(home.objects("tenants/acme/snapshots") == before, "the original's store is untouched")
        let copied = (try? FileManager.default.contentsOfDirectory(atPath: "\(copy)/store/tenants/acme/snapshots")) ?? []
        #expect(copied.count == before.count + 1, "the copy wrote to its own store")
        #expect(home.lethe(["audit", "verify"], environment: ["LETHE_HOME": copy]).status == 0)
    }
}

/// The attack review's first findings: lethe.json decided things H must not.
@Suite struct SignedConfigurationTests {
    @Test func anEditedOrRolledBackConfigurationIsRefused() throws {
        let home = try E2EHome()
        let config = "\(home.home)/lethe.json"
        let original = try String(contentsOfFile: config, encoding: .utf8)
        // By hand, H points the metrics at the keystore: refused, and the keystore is untouched.
        try home.write(config, original.replacingOccurrences(of: #""leaseSeconds""#, with: #""metricsFile" : "\#(home.keys)/keystore.json", "leaseSeconds""#), mode: 0o600)
        let edited = home.lethe("nightly")
        #expect(edited.status == 3 && edited.stderr.contains("lethe.json"), "\(edited.output)")
        try home.write(config, original, mode: 0o600)
        #expect(home.lethe("keys", "status").status == 0, "the keystore is as it was")
        // A genuine but older lethe.json put back after a change is refused too.
        #expect(home.lethe("config", "set", "restoreWindowDays", "30").status == 0)
        try home.write(config, original, mode: 0o600)
        let rolledBack = home.lethe("tenant", "list")
        #expect(rolledBack.status == 3 && rolledBack.stderr.contains("older configuration"), "\(rolledBack.output)")
    }
}
