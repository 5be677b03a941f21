import Foundation
import Testing

@Suite struct BackupRestoreTests {
    @Test func restoreReproducesTheTreeExactly() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme", bigFile: 9_500_000)
        #expect(home.lethe("backup", "acme").status == 0)
        let target = "\(home.root)/restored"
        let restore = home.lethe("restore", "acme", "latest", "--target", target)
        #expect(restore.status == 0, "\(restore.output)")
        #expect(SampleTree.differences(source, target) == [])
    }

    @Test func restoreOfOnePathRestoresOnlyThatFileWithItsParents() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        home.lethe("backup", "acme")
        let target = "\(home.root)/one"
        #expect(home.lethe("restore", "acme", "--target", target, "--path", "docs/contracts/Müller Vertrag.txt").status == 0)
        #expect(FileManager.default.contents(atPath: "\(target)/docs/contracts/Müller Vertrag.txt")
            == FileManager.default.contents(atPath: "\(source)/docs/contracts/Müller Vertrag.txt"))
        #expect(FileManager.default.subpaths(atPath: target)?.sorted() == ["docs", "docs/contracts", "docs/contracts/Müller Vertrag.txt"])
    }

    @Test func unchangedFilesAreNotReadAgainAndChangedOnesAre() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        home.lethe("backup", "acme")
        let second = try #require(try home.lethe("backup", "acme", "--json").json() as? [String: Any])
        let summary = try #require(((second["tenants"] as? [[String: Any]])?.first?["summary"]) as? [String: Any])
        #expect(summary["filesUnchanged"] as? Int == 7)
        #expect(summary["bytesRead"] as? Int == 0)
        try home.write("\(source)/docs/notes.md", "changed\n")
        let third = try #require(try home.lethe("backup", "acme", "--json").json() as? [String: Any])
        let changed = try #require(((third["tenants"] as? [[String: Any]])?.first?["summary"]) as? [String: Any])
        #expect(changed["filesChanged"] as? Int == 1)
        #expect(changed["filesUnchanged"] as? Int == 6)
    }

    @Test func nonEmptyTargetIsRefusedUnlessForced() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        home.lethe("backup", "acme")
        let target = "\(home.root)/busy"
        try home.write("\(target)/already-here.txt", "x")
        let refused = home.lethe("restore", "acme", "--target", target)
        #expect(refused.status == 2 && refused.stderr.contains("--force"))
        #expect(home.lethe("restore", "acme", "--target", target, "--force").status == 0)
        #expect(FileManager.default.fileExists(atPath: "\(target)/docs/notes.md"))
    }

    @Test func lsListsTheSnapshotFromTheCatalog() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        home.lethe("backup", "acme")
        let root = home.lethe("ls", "latest", "--tenant", "acme")
        #expect(root.status == 0)
        #expect(root.stdout.contains("docs/") && root.stdout.contains("latest-notes -> docs/notes.md") && root.stdout.contains("empty folder/"))
        let docs = home.lethe("ls", "latest", "docs/contracts", "--tenant", "acme")
        #expect(docs.stdout.contains("Müller Vertrag.txt"))
    }

    @Test func oneTenantsFailureDoesNotStopTheOthers() throws {
        let home = try E2EHome()
        try home.addTenant("good")
        #expect(home.lethe("tenant", "add", "bad", "--source", "out=cmd:echo partial; exit 3").status == 0)
        let run = home.lethe("backup", "--all", "--json")
        #expect(run.status == 1)
        let tenants = try #require((try run.json() as? [String: Any])?["tenants"] as? [[String: Any]])
        let status = Dictionary(uniqueKeysWithValues: tenants.map { ($0["tenant"] as! String, $0["status"] as! String) })
        #expect(status == ["good": "succeeded", "bad": "failed"])
        #expect((tenants.first { $0["tenant"] as? String == "bad" }?["error"] as? String)?.contains("status 3") == true)
    }

    @Test func commandSourceIsBackedUpAsAFile() throws {
        let home = try E2EHome()
        #expect(home.lethe("tenant", "add", "dump", "--source", "out.sql=cmd:printf 'CREATE TABLE t;\\n'").status == 0)
        #expect(home.lethe("backup", "dump").status == 0)
        #expect(home.lethe("restore", "dump", "--target", "\(home.root)/r").status == 0)
        #expect(try String(contentsOfFile: "\(home.root)/r/out.sql", encoding: .utf8) == "CREATE TABLE t;\n")
    }
}
