import Foundation
import Testing

/// What the CLI says to people: a misspelt verb or option is named and the nearest one
/// suggested, counts read right in the singular, and summaries do not contradict themselves.
@Suite struct MessagesTests {
    static let day0 = "2026-03-01T02:00:00Z", day2 = "2026-03-03T02:00:00Z"

    @Test(arguments: [
        (["bakup", "--all"], "unknown command \"bakup\" (did you mean `lethe backup`?)"),
        (["bakup"], "unknown command \"bakup\" (did you mean `lethe backup`?)"),
        (["tenat", "list", "--json"], "unknown command \"tenat\" (did you mean `lethe tenant list`?)"),
        (["tenant", "shwo", "acme"], "unknown command \"tenant shwo\" (did you mean `lethe tenant show`?)"),
        (["audit", "lgo"], "unknown command \"audit lgo\" (did you mean `lethe audit log`?)"),
        (["snapshot"], "unknown command \"snapshot\" (did you mean `lethe snapshots`?)"),
        (["frobnicate", "--all"], "unknown command \"frobnicate\" (see `lethe --help`)"),
        (["backup", "--al"], "unknown option --al; did you mean --all? (see `lethe backup --help`)"),
        (["verify", "--read-dta"], "unknown option --read-dta; did you mean --read-data? (see `lethe verify --help`)"),
        (["backup", "--frobnicate"], "unknown option --frobnicate (see `lethe backup --help`)"),
    ])
    func aMisspeltWordIsNamedWithTheNearestOne(arguments: [String], message: String) throws {
        let home = try E2EHome(initialize: false)
        let run = home.lethe(arguments)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "lethe: \(message)\n", "lethe \(arguments.joined(separator: " "))")
    }

    /// One file, one directory, one link, one pack, one tenant, a window of one day: every count
    /// that can be 1 reads as a singular.
    @Test func countsOfOneReadAsSingulars() throws {
        let home = try E2EHome()
        // An empty file: no content blob, so the one tree is the one pack.
        try home.write("\(home.data)/solo/only.txt", "")
        #expect(home.lethe("tenant", "add", "solo", "--source", "dir:\(home.data)/solo").status == 0)
        let backup = home.lethe(["backup", "solo"], environment: ["LETHE_NOW": Self.day0])
        #expect(backup.status == 0, "\(backup.output)")

        let restore = home.lethe("restore", "solo", "--target", "\(home.root)/restored")
        #expect(restore.stdout.hasPrefix("Restored 1 file, 0 directories, 0 links "), "\(restore.output)")
        let export = home.lethe("export", "solo", "--output", "\(home.root)/solo.tar")
        #expect(export.stdout.hasPrefix("Exported 1 file "), "\(export.output)")
        let verify = home.lethe("verify", "solo", "--read-data")
        #expect(verify.stdout.contains("1 snapshot, 1 tree, 1 pack, "), "\(verify.output)")
        let show = home.lethe("tenant", "show", "solo")
        #expect(show.stdout.contains(" in 1 pack\n"), "\(show.output)")
        let prune = home.lethe("prune", "solo", "--dry-run")
        #expect(prune.stdout.contains("solo: 1 pack, "), "\(prune.output)")
        let forget = home.lethe("forget", "solo", "--dry-run")
        #expect(forget.stdout.contains("of 1 snapshot ("), "\(forget.output)")

        let nightly = home.lethe(["nightly", "--force"], environment: ["LETHE_NOW": Self.day0])
        #expect(nightly.status == 0, "\(nightly.output)")
        #expect(nightly.stdout.contains("backups: 1 tenant backed up, 0 skipped\n"), "\(nightly.output)")
        #expect(nightly.stdout.contains(": 1 tenant, "), "\(nightly.output)")
        #expect(nightly.stdout.contains("\nprune solo: 0 packs deleted, 0 repacked, 0 bytes freed\n"), "\(nightly.output)")

        let offboard = home.lethe(["tenant", "offboard", "solo", "--window-days", "1", "--json"], environment: ["LETHE_NOW": Self.day0])
        let record = try #require(try offboard.json() as? [String: Any])
        let events = try #require(record["events"] as? [[String: Any]])
        #expect(events.last?["detail"] as? String == "restore window 1 day")

        // Retention keeps one snapshot a day: the nightly run forgot the first.
        let index = home.lethe("index", "rebuild")
        #expect(index.stdout.contains("Catalog rebuilt: 1 tenant, 1 snapshot, 0 destroyed tenants"), "\(index.output)")
        for run in [restore, export, verify, show, prune, forget, nightly, index] {
            #expect(run.stdout.range(of: #"\b1 (files|directories|links|snapshots|trees|packs|tenants|blobs|days|entries)\b"#, options: .regularExpression) == nil,
                    "\(run.stdout)")
        }
    }

    /// A nightly run that backs up nobody, because everybody was backed up today, says so once:
    /// no "No tenants to back up." beside the tenants it skipped, and a failed backup is not
    /// counted as backed up.
    @Test func theNightlySummaryDoesNotContradictItself() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        try home.addTenant("globex")
        #expect(home.lethe(["backup", "--all"], environment: ["LETHE_NOW": Self.day0]).status == 0)
        let skipped = home.lethe(["nightly"], environment: ["LETHE_NOW": "2026-03-01T06:00:00Z"])
        #expect(skipped.status == 0, "\(skipped.output)")
        #expect(skipped.stdout.contains("backups: 0 tenants backed up, 2 skipped\n"), "\(skipped.output)")
        #expect(!skipped.stdout.contains("No tenants"), "\(skipped.output)")
        #expect(skipped.stdout.contains("  acme  skipped: ") && skipped.stdout.contains("  globex  skipped: "), "\(skipped.output)")

        try FileManager.default.removeItem(atPath: "\(home.data)/globex")
        let failed = home.lethe(["nightly"], environment: ["LETHE_NOW": Self.day2])
        #expect(failed.status == 1, "\(failed.output)")
        #expect(failed.stdout.contains("backups: 1 tenant backed up, 1 failed, 0 skipped\n"), "\(failed.output)")
        #expect(failed.stdout.contains("globex  FAILED"), "\(failed.output)")
    }
}
