import Foundation
import Testing

/// A database backed up from a directory while its WAL still held pages: the restored
/// database lost the rows, but its `-wal` would replay them on open. The restore and the
/// export fail closed, naming the log, until it is checkpointed or erased too; `-shm` (a
/// cache) is never written beside a database SQL rules change.
@Suite struct ErasureSQLiteSidecarTests {
    static let alice = "alice@x.com"

    /// A tenant tree holding db/app.sqlite with rows in its main file and more in a live
    /// -wal (copied while a connection held it open, with checkpoints off), and its -shm.
    static func prepared() throws -> (E2EHome, String) {
        let home = try E2EHome()
        let tree = "\(home.data)/acme"
        try FileManager.default.createDirectory(atPath: "\(tree)/db", withIntermediateDirectories: true)
        try home.write("\(tree)/README.md", "readme\n")
        let script = """
            import shutil, sqlite3, sys
            source, target = sys.argv[1], sys.argv[2]
            db = sqlite3.connect(source, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE contacts(id INTEGER PRIMARY KEY, email TEXT)")
            db.execute("INSERT INTO contacts(email) VALUES ('alice@x.com'), ('bob@x.com')")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA wal_autocheckpoint=0")
            db.execute("INSERT INTO contacts(email) VALUES ('alice@x.com'), ('carol@x.com')")
            for suffix in ["", "-wal", "-shm"]:
                shutil.copyfile(source + suffix, target + suffix)
            """
        try home.write("\(home.root)/make.py", script)
        let make = E2EHome.run("/usr/bin/python3", ["\(home.root)/make.py", "\(home.root)/live.sqlite", "\(tree)/db/app.sqlite"])
        #expect(make.status == 0, "\(make.output)")
        let wal = try FileManager.default.attributesOfItem(atPath: "\(tree)/db/app.sqlite-wal")[.size] as? Int ?? 0
        #expect(wal > 0)
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(tree)").status == 0)
        #expect(home.lethe("backup", "acme").status == 0)
        let request = home.lethe(
            "erase", "request", "acme", "--subject-ref", "t-1", "--reason", "Art. 17",
            "--sql", "DELETE FROM contacts WHERE email = ?", "--param", alice, "--file", "db/app.sqlite")
        #expect(request.status == 0, "\(request.output)")
        return (home, tree)
    }

    @Test func aLiveWALBesideAFilteredDatabaseFailsTheRestoreAndExportAndIsNotWritten() throws {
        let (home, tree) = try ErasureSQLiteSidecarTests.prepared()
        // The oracle: the database as backed up, opened by sqlite3 with its WAL, holds her row
        // from the WAL, so writing the WAL beside the erased file would bring her back.
        let probe = "\(home.root)/probe"
        try FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] { #expect(E2EHome.run("/bin/cp", ["\(tree)/db/app.sqlite\(suffix)", "\(probe)/app.sqlite\(suffix)"]).status == 0) }
        #expect(E2EHome.run("/usr/bin/sqlite3", ["\(probe)/app.sqlite", "SELECT count(*) FROM contacts WHERE email = 'alice@x.com'"]).stdout == "2\n")

        let target = "\(home.root)/r"
        let restore = home.lethe("restore", "acme", "--target", target)
        #expect(restore.status == 1, "\(restore.output)")
        #expect(restore.stderr.hasPrefix("lethe: ") && restore.stderr.contains("db/app.sqlite-wal"), "\(restore.output)")
        #expect(restore.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(restore.stderr)")
        for suffix in ["", "-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: "\(target)/db/app.sqlite\(suffix)")) }
        // A restore of the log alone fails the same way.
        let one = home.lethe("restore", "acme", "--target", "\(home.root)/one", "--path", "db/app.sqlite-wal")
        #expect(one.status == 1 && one.stderr.contains("db/app.sqlite-wal"), "\(one.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(home.root)/one/db/app.sqlite-wal"))
        let export = home.lethe("export", "acme", "--output", "\(home.root)/x.tar")
        #expect(export.status == 1 && export.stderr.contains("db/app.sqlite-wal"), "\(export.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(home.root)/x.tar"))
    }

    @Test func withTheWALErasedTooTheRestoreHasNeitherSidecarAndNoErasedRow() throws {
        let (home, _) = try ErasureSQLiteSidecarTests.prepared()
        let request = home.lethe("erase", "request", "acme", "--subject-ref", "t-2", "--reason", "Art. 17", "--path", "db/app.sqlite-wal")
        #expect(request.status == 0, "\(request.output)")
        let target = "\(home.root)/r"
        let restore = home.lethe("restore", "acme", "--target", target)
        #expect(restore.status == 0, "\(restore.output)")
        #expect(FileManager.default.fileExists(atPath: "\(target)/db/app.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: "\(target)/db/app.sqlite-wal"))
        #expect(!FileManager.default.fileExists(atPath: "\(target)/db/app.sqlite-shm"))
        #expect(E2EHome.run("/usr/bin/sqlite3", ["\(target)/db/app.sqlite", "SELECT email FROM contacts ORDER BY id"]).stdout == "bob@x.com\n")
        let archive = "\(home.root)/x.tar"
        let export = home.lethe("export", "acme", "--output", archive)
        #expect(export.status == 0, "\(export.output)")
        let listing = E2EHome.run("/bin/tar", ["-tf", archive]).stdout.split(separator: "\n").map(String.init)
        #expect(listing.contains("db/app.sqlite") && !listing.contains { $0.hasPrefix("db/app.sqlite-") }, "\(listing)")
    }

    @Test func aPurgeFailsOnTheLiveWALNamingItAndStoresNoRewrite() throws {
        let (home, _) = try ErasureSQLiteSidecarTests.prepared()
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")])
        let id = try #require((try home.lethe("erase", "list", "acme", "--json").json() as? [[String: Any]])?.first?["id"] as? String)
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        let before = try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]]).map { $0["id"] as! String }
        let purge = home.lethe("erase", "purge", id)
        #expect(purge.status == 1 && purge.stderr.hasPrefix("lethe: ") && purge.stderr.contains("db/app.sqlite-wal"), "\(purge.output)")
        let after = try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]]).map { $0["id"] as! String }
        #expect(after == before)
    }
}
