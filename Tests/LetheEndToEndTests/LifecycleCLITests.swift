import Foundation
import Glibc
import Testing

/// The lifecycle through the CLI, with time moved by LETHE_NOW (debug builds only).
@Suite struct LifecycleCLITests {
    static let day0 = "2026-03-01T02:00:00Z"

    func at(_ days: Int) -> [String: String] {
        let start = ISO8601DateFormatter().date(from: Self.day0)!
        return ["LETHE_NOW": ISO8601DateFormatter().string(from: start.addingTimeInterval(Double(days) * 86_400 + 60))]
    }

    @Test func restoreWorksOnDay89AndIsRefusedOnDay91WhenTheTenantIsDue() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe(["backup", "acme"], environment: at(0)).status == 0)
        #expect(home.lethe(["tenant", "offboard", "acme"], environment: at(0)).status == 0)
        let backup = home.lethe(["backup", "acme", "--json"], environment: at(1))
        #expect(backup.status == 4 && backup.stderr.contains("offboarded"), "refused by policy, said on stderr")
        #expect(home.lethe(["restore", "acme", "--target", "\(home.root)/d89"], environment: at(89)).status == 0)
        #expect((try home.lethe(["due", "--json"], environment: at(89)).json() as? [Any])?.isEmpty == true)
        let due = try #require(try home.lethe(["due", "--json"], environment: at(91)).json() as? [[String: Any]])
        #expect(due.count == 1 && due[0]["tenant"] as? String == "acme" && due[0]["daysOverdue"] as? Int == 1)
        let refused = home.lethe(["restore", "acme", "--target", "\(home.root)/d91"], environment: at(91))
        #expect(refused.status == 4 && refused.stderr.contains("window"))
    }

    @Test func holdKeepsTheTenantOffTheDueListUntilReleased() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        home.lethe(["backup", "acme"], environment: at(0))
        home.lethe(["tenant", "offboard", "acme", "--window-days", "10"], environment: at(0))
        #expect(home.lethe(["tenant", "hold", "acme"], environment: at(1)).status == 2, "a hold needs a reason")
        #expect(home.lethe(["tenant", "hold", "acme", "--reason", "court order 17"], environment: at(1)).status == 0)
        #expect((try home.lethe(["due", "--json"], environment: at(30)).json() as? [Any])?.isEmpty == true)
        #expect(home.lethe(["destroy", "request", "acme", "--reason", "client-request"], environment: at(30)).status == 4)
        #expect(home.lethe(["tenant", "release", "acme", "--reason", "case closed"], environment: at(31)).status == 0)
        #expect((try home.lethe(["due", "--json"], environment: at(31)).json() as? [Any])?.count == 1)
        let show = home.lethe(["tenant", "show", "acme"], environment: at(31)).stdout
        #expect(show.contains("court order 17") && show.contains("case closed"))
    }

    @Test func reactivationResumesBackups() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        home.lethe(["tenant", "offboard", "acme"], environment: at(0))
        #expect(home.lethe(["tenant", "offboard", "acme"], environment: at(0)).status == 4)
        #expect(home.lethe(["tenant", "reactivate", "acme"], environment: at(5)).status == 0)
        #expect(home.lethe(["tenant", "reactivate", "acme"], environment: at(5)).status == 4)
        #expect(home.lethe(["backup", "acme"], environment: at(6)).status == 0)
    }

    @Test func exportIsAPaxTarIdenticalInContentToARestore() throws {
        let home = try E2EHome()
        try home.addTenant("acme", bigFile: 3_000_000)
        home.lethe("backup", "acme")
        let archive = "\(home.root)/acme.tar"
        let export = home.lethe("export", "acme", "--output", archive)
        #expect(export.status == 0, "\(export.output)")
        var info = stat()
        stat(archive, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        let list = E2EHome.run("/usr/bin/env", ["tar", "-tf", archive])
        #expect(list.status == 0 && list.stdout.contains("docs/contracts/Müller Vertrag.txt") && list.stdout.contains("empty folder/"))
        let extracted = "\(home.root)/extracted"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        let untar = E2EHome.run("/usr/bin/env", ["tar", "-xpf", archive, "-C", extracted])
        #expect(untar.status == 0, "\(untar.output)")
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/restored").status == 0)
        #expect(SampleTree.differences("\(home.root)/restored", extracted) == [])
    }

    @Test func restoresAndExportsNotifyAndAreLogged() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        home.lethe("backup", "acme")
        let events = "\(home.root)/events.jsonl"
        #expect(home.lethe("config", "set", "notifications.command", "cat >> '\(events)'; echo >> '\(events)'").status == 0)
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/r").status == 0)
        #expect(home.lethe("export", "acme", "--output", "\(home.root)/a.tar").status == 0)
        let lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["event"] as? String == "restore" && first["tenant"] as? String == "acme" && (first["actor"] as? String)?.hasPrefix("e2e-tester@") == true)
        #expect((first["bytes"] as? Int ?? 0) > 0)
        let log = try #require(try home.lethe("audit", "log", "--json", "--tenant", "acme").json() as? [[String: Any]])
        #expect(log.contains { $0["operation"] as? String == "restore" } && log.contains { $0["operation"] as? String == "export" })
    }

    @Test func failingNotificationIsReportedLoggedAndExitsOne() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        home.lethe("backup", "acme")
        home.lethe("config", "set", "notifications.command", "exit 5")
        let run = home.lethe("restore", "acme", "--target", "\(home.root)/r")
        #expect(run.status == 1)
        #expect(run.stderr.contains("notification command failed with status 5"))
        #expect(FileManager.default.fileExists(atPath: "\(home.root)/r/docs/notes.md"), "the restore itself stands")
        home.lethe("config", "set", "notifications.command", "")
        home.lethe("config", "set", "notifications.webhook", "http://127.0.0.1:9/lethe")
        let webhook = home.lethe("export", "acme", "--output", "\(home.root)/a.tar")
        #expect(webhook.status == 1 && webhook.stderr.contains("webhook"))
        let log = try #require(try home.lethe("audit", "log", "--json").json() as? [[String: Any]])
        #expect(log.filter { $0["operation"] as? String == "notification.failed" }.count == 2)
    }
}

@Suite struct NightlyTests {
    func at(_ days: Int) -> [String: String] {
        let start = ISO8601DateFormatter().date(from: "2026-03-01T02:00:00Z")!
        return ["LETHE_NOW": ISO8601DateFormatter().string(from: start.addingTimeInterval(Double(days) * 86_400))]
    }

    @Test func reRunSameNightSkipsWhatIsDoneAndForceBacksUpAgain() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        try home.addTenant("globex")
        let first = try #require(try home.lethe(["nightly", "--json"], environment: at(0)).json() as? [String: Any])
        #expect((first["backups"] as? [Any])?.count == 2)
        let again = home.lethe(["nightly", "--json"], environment: at(0))
        #expect(again.status == 0)
        let second = try #require(try again.json() as? [String: Any])
        #expect((second["backups"] as? [Any])?.count == 0 && (second["skipped"] as? [Any])?.count == 2)
        let forced = try #require(try home.lethe(["nightly", "--json", "--force"], environment: at(0)).json() as? [String: Any])
        #expect((forced["backups"] as? [Any])?.count == 2)
        let next = try #require(try home.lethe(["nightly", "--json"], environment: at(1)).json() as? [String: Any])
        #expect((next["backups"] as? [Any])?.count == 2)
    }

    @Test func secondConcurrentRunIsRefused() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        let lockPath = "\(home.home)/locks/nightly.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT, 0o600)
        try #require(fd >= 0 && flock(fd, LOCK_EX) == 0)
        defer { close(fd) }
        let run = home.lethe("nightly")
        #expect(run.status == 1 && run.stderr.contains("another nightly run"))
        #expect(home.objects("tenants/acme/snapshots").isEmpty, "nothing interleaved")
    }

    @Test func metricsAreWrittenForNodeExporter() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        let metrics = "\(home.root)/lethe.prom"
        #expect(home.lethe(["nightly", "--metrics", metrics], environment: at(0)).status == 0)
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        for name in ["lethe_nightly_last_success_timestamp_seconds", "lethe_nightly_failures 0", "lethe_backup_success{tenant=\"acme\"} 1",
                     "lethe_backup_bytes_added{tenant=\"acme\"}", "lethe_integrity_violations 0", "lethe_tenants_due 0"] {
            #expect(text.contains(name), "\(name)")
        }
    }

    @Test func dueTenantsGetARequestButNeverAnApproval() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")])
        home.lethe(["backup", "acme"], environment: at(0))
        home.lethe(["tenant", "offboard", "acme", "--window-days", "3"], environment: at(0))
        let run = try #require(try home.lethe(["nightly", "--json"], environment: at(4)).json() as? [String: Any])
        #expect((run["destructionRequestsOpened"] as? [Any])?.count == 1)
        let again = try #require(try home.lethe(["nightly", "--json"], environment: at(5)).json() as? [String: Any])
        #expect((again["destructionRequestsOpened"] as? [Any])?.count == 0, "one request per due tenant")
        let requests = try #require(try home.lethe("destroy", "list", "--json").json() as? [[String: Any]])
        #expect(requests.count == 1)
        #expect((requests[0]["state"] as? [String: Any])?["status"] as? String == "pending")
        #expect(((requests[0]["state"] as? [String: Any])?["approvals"] as? [Any])?.isEmpty == true)
    }

    @Test func rotatingVerificationReadsEveryPackWithinTheRotation() throws {
        let home = try E2EHome()
        try home.addTenant("acme", bigFile: 40 << 20)
        home.lethe("config", "set", "verifyRotationNights", "2")
        home.lethe(["backup", "acme"], environment: at(0))
        let packs = home.objects("tenants/acme/data").count
        #expect(packs >= 3)
        var read = 0
        for night in 1...2 {
            let summary = try #require(try home.lethe(["nightly", "--json"], environment: at(night)).json() as? [String: Any])
            for result in summary["verification"] as? [[String: Any]] ?? [] {
                read += (result["report"] as? [String: Any])?["packsRead"] as? Int ?? 0
            }
        }
        #expect(read == packs)
    }
}
