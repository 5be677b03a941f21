import Foundation
import Glibc
import Testing

/// A WAL-mode SQLite source in a folder Lethe may only read (systemd's `ReadOnlyPaths=`, made
/// here with a read-only bind mount in a mount namespace): it is backed up whether or not a
/// writer has it open, or refused with the cause named, and nothing is left beside it.
@Suite struct SQLiteReadOnlySourceTests {
    /// A home with tenant app whose one source is the WAL-mode database `data/db/app.sqlite`,
    /// holding rows "a" and "b", and no connection open.
    func prepared() throws -> (home: E2EHome, folder: String) {
        let home = try E2EHome()
        let folder = "\(home.data)/db"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let made = E2EHome.shell("""
            sqlite3 app.sqlite "PRAGMA journal_mode=WAL; CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('a'), ('b');" > /dev/null
            """, directory: folder)
        try #require(made.status == 0, "sqlite3 is needed: \(made.output)")
        #expect(home.lethe("tenant", "add", "app", "--source", "app.sqlite=sqlite:\(folder)/app.sqlite").status == 0)
        return (home, folder)
    }

    func backupReadOnly(_ home: E2EHome, _ folder: String) -> E2ERun {
        var environment = ProcessInfo.processInfo.environment
        environment["LETHE_HOME"] = home.home
        environment["LETHE_ACTOR"] = "e2e-tester"
        return MountNamespace(binds: [MountNamespace.Bind(path: folder, writable: false)])
            .run(E2EHome.binary, ["backup", "app"], environment: environment, directory: home.root)
    }

    /// The rows of the newest snapshot's copy, read by the sqlite3 command.
    func restoredRows(_ home: E2EHome) throws -> String {
        let target = "\(home.root)/restore-\(UUID().uuidString)"
        let restore = home.lethe("restore", "app", "latest", "--target", target)
        try #require(restore.status == 0, "\(restore.output)")
        let query = E2EHome.run("/usr/bin/sqlite3", ["\(target)/app.sqlite", "PRAGMA integrity_check; SELECT group_concat(v) FROM t"])
        return query.stdout
    }

    func listing(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    @Test func databaseNobodyHasOpenIsBackedUpFromAReadOnlyFolder() throws {
        let (home, folder) = try prepared()
        #expect(try listing(folder) == ["app.sqlite"])
        let run = backupReadOnly(home, folder)
        #expect(run.status == 0, "\(run.output)")
        #expect(try restoredRows(home) == "ok\na,b\n")
        #expect(try listing(folder) == ["app.sqlite"])
    }

    @Test func databaseNobodyHasOpenLeavesNothingBesideItInAWritableFolder() throws {
        let (home, folder) = try prepared()
        let run = home.lethe("backup", "app")
        #expect(run.status == 0, "\(run.output)")
        #expect(try listing(folder) == ["app.sqlite"], "no -wal or -shm left behind")
        #expect(try restoredRows(home) == "ok\na,b\n")
    }

    /// A live writer keeps row "c" in its -wal, not yet checkpointed: the copy must include it.
    @Test func databaseAWriterHasOpenIsBackedUpWithItsWALFromAReadOnlyFolder() throws {
        let (home, folder) = try prepared()
        let writer = try Writer(folder: folder, exitWithoutClosing: false)
        defer { writer.stop() }
        #expect(try listing(folder) == ["app.sqlite", "app.sqlite-shm", "app.sqlite-wal"])
        let run = backupReadOnly(home, folder)
        #expect(run.status == 0, "\(run.output)")
        #expect(try restoredRows(home) == "ok\na,b,c\n")
        writer.stop()
        #expect(try listing(folder) == ["app.sqlite"], "the writer, last to close, removed its -wal and -shm")
    }

    /// A writer that died left row "c" in a -wal, and its -shm is gone: SQLite cannot read the
    /// -wal without making a -shm, which a read-only folder forbids. Refused, naming why.
    @Test func walWithoutItsShmInAReadOnlyFolderIsRefusedWithTheCause() throws {
        let (home, folder) = try prepared()
        try Writer(folder: folder, exitWithoutClosing: true).stop()
        try FileManager.default.removeItem(atPath: "\(folder)/app.sqlite-shm")
        let before = try listing(folder)
        #expect(before == ["app.sqlite", "app.sqlite-wal"])
        let run = backupReadOnly(home, folder)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.stderr.contains("app.sqlite-shm") && run.stderr.contains("\(folder) is not writable (Read-only file system)")
            && run.stderr.contains("app.sqlite-wal is there"), "\(run.stderr)")
        #expect(try listing(folder) == before)
    }

    /// python3's sqlite3 module holding a connection to app.sqlite after committing row "c"
    /// (so it is in the -wal only), until stopped; or exiting at once without closing.
    final class Writer {
        let process = Process()
        let stopFile: String

        init(folder: String, exitWithoutClosing: Bool) throws {
            stopFile = "\(folder)/../writer-stop-\(UUID().uuidString)"
            let ready = "\(folder)/../writer-ready-\(UUID().uuidString)"
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", """
                import os, sqlite3, sys, time
                c = sqlite3.connect(sys.argv[1])
                c.execute("PRAGMA wal_autocheckpoint=0")
                c.execute("INSERT INTO t VALUES ('c')")
                c.commit()
                if sys.argv[4] == "1":
                    os._exit(0)
                open(sys.argv[2], "w").close()
                while not os.path.exists(sys.argv[3]):
                    time.sleep(0.02)
                c.close()
                """, "\(folder)/app.sqlite", ready, stopFile, exitWithoutClosing ? "1" : "0"]
            try process.run()
            if exitWithoutClosing {
                process.waitUntilExit()
            } else {
                while !FileManager.default.fileExists(atPath: ready), process.isRunning { usleep(20_000) }
            }
        }

        func stop() {
            _ = FileManager.default.createFile(atPath: stopFile, contents: nil)
            process.waitUntilExit()
        }
    }
}
