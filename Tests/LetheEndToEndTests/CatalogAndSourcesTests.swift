import Foundation
import Testing

@Suite struct CatalogRebuildTests {
    @Test func deletedCatalogIsRebuiltFromTheStoreAlone() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        try home.addTenant("globex")
        home.lethe("backup", "--all")
        home.lethe("backup", "--all")
        let before = try #require(try home.lethe("snapshots", "--json").json() as? [[String: Any]]).map { $0["id"] as! String }.sorted()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: "\(home.home)/catalog.sqlite\(suffix)") }
        let rebuild = home.lethe("index", "rebuild")
        #expect(rebuild.status == 0, "\(rebuild.output)")
        let after = try #require(try home.lethe("snapshots", "--json").json() as? [[String: Any]]).map { $0["id"] as! String }.sorted()
        #expect(after == before && before.count == 4)
        #expect(home.lethe("tenant", "list").stdout.contains("globex"))
        #expect(home.lethe("ls", "latest", "--tenant", "acme").stdout.contains("docs/"))
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/r").status == 0)
        #expect(SampleTree.differences(source, "\(home.root)/r") == [])
    }
}

@Suite struct SQLiteSourceTests {
    /// A writer commits `INSERT … ; UPDATE total …` transactions in a loop while Lethe backs up
    /// the database: every restored copy must pass integrity_check and have sum == count.
    @Test func copyIsConsistentUnderAConcurrentWriter() throws {
        let home = try E2EHome()
        let db = "\(home.data)/app.sqlite"
        let setup = E2EHome.shell("""
            sqlite3 '\(db)' 'PRAGMA journal_mode=WAL; CREATE TABLE items(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT);
            CREATE TABLE total(sum INTEGER); INSERT INTO total VALUES (0);' > /dev/null
            """, directory: home.root)
        try #require(setup.status == 0, "sqlite3 is needed: \(setup.output)")
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", """
            while :; do sqlite3 '\(db)' "BEGIN IMMEDIATE; INSERT INTO items(v, pad) VALUES (1, hex(randomblob(400))); UPDATE total SET sum = sum + 1; COMMIT;" 2>/dev/null; done
            """]
        try writer.run()
        defer { writer.terminate(); writer.waitUntilExit() }
        #expect(home.lethe("tenant", "add", "app", "--source", "app.sqlite=sqlite:\(db)").status == 0)
        usleep(300_000)
        for _ in 0..<4 {
            let run = home.lethe("backup", "app")
            #expect(run.status == 0, "\(run.output)")
            usleep(150_000)
        }
        writer.terminate()
        let snapshots = try #require(try home.lethe("snapshots", "app", "--json").json() as? [[String: Any]])
        #expect(snapshots.count == 4)
        var counts = Set<String>()
        for (number, snapshot) in snapshots.enumerated() {
            let target = "\(home.root)/restore-\(number)"
            #expect(home.lethe("restore", "app", snapshot["id"] as! String, "--target", target).status == 0)
            let check = E2EHome.shell(
                "sqlite3 '\(target)/app.sqlite' 'PRAGMA integrity_check; SELECT (SELECT count(*) FROM items) = (SELECT sum FROM total); SELECT count(*) FROM items;'",
                directory: home.root)
            let lines = check.stdout.split(separator: "\n")
            #expect(lines.count == 3 && lines[0] == "ok" && lines[1] == "1", "snapshot \(number): \(check.output)")
            if lines.count == 3 { counts.insert(String(lines[2])) }
        }
        #expect(counts.count > 1, "the writer was really writing between backups")
    }
}
