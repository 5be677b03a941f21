import Foundation
import LetheStore
import Testing

/// Copies of a tenant's SQLite database: consistent, whatever its journal mode and file name,
/// and with nothing left beside the source.
@Suite struct SourceDatabaseCopyTests {
    let directory = TestDirectory()

    /// A database at `name` in `mode` holding rows 0..<100, every connection to it closed.
    func made(_ name: String, journalMode mode: String) throws -> String {
        let path = "\(directory.path)/\(name)"
        let db = try Database(path: path)
        try db.execute("PRAGMA journal_mode=\(mode)")
        try db.execute("CREATE TABLE t (n INTEGER)")
        try db.transaction { for n in 0..<100 { try db.run("INSERT INTO t VALUES (?)", n) } }
        return path
    }

    func rows(_ path: String) throws -> [Int] {
        try Database(path: path, readOnly: true).query("SELECT n FROM t ORDER BY n").map { $0.int(0) }
    }

    @Test(arguments: ["WAL", "DELETE"])
    func copyHoldsEveryRowAndLeavesNothingBeside(mode: String) throws {
        let source = try made("app.sqlite", journalMode: mode)
        #expect(SourceDatabaseCopy.sidecars(of: source).isEmpty)
        let copy = "\(directory.path)/copy.sqlite"
        try SourceDatabaseCopy.copy(source, to: copy)
        #expect(try rows(copy) == Array(0..<100))
        #expect(SourceDatabaseCopy.sidecars(of: source).isEmpty, "no -wal or -shm left beside the source")
    }

    /// "?", "#" and "%" end or escape a URI's path: a file named with them is still that file.
    @Test func fileNamesWithURICharactersAreThatFile() throws {
        let source = try made("odd ?name#1%41.sqlite", journalMode: "WAL")
        let copy = "\(directory.path)/copy.sqlite"
        try SourceDatabaseCopy.copy(source, to: copy)
        #expect(try rows(copy) == Array(0..<100))
        #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/odd "), "no file made at the URI's cut-off path")
    }

    /// While a connection writes, the copy reads through it, rows in its -wal included.
    @Test func copyWhileAWriterHasItOpenIncludesTheWAL() throws {
        let source = try made("live.sqlite", journalMode: "WAL")
        let writer = try Database(path: source)
        try writer.execute("PRAGMA wal_autocheckpoint=0")
        try writer.run("INSERT INTO t VALUES (?)", 100)
        #expect(SourceDatabaseCopy.sidecars(of: source).count == 2)
        let copy = "\(directory.path)/copy.sqlite"
        try SourceDatabaseCopy.copy(source, to: copy)
        #expect(try rows(copy) == Array(0...100))
        withExtendedLifetime(writer) {}
    }

    @Test func aFileThatIsNotADatabaseIsAnSQLiteError() throws {
        let path = "\(directory.path)/not.sqlite"
        try Data("not a database at all, just text that is long enough".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SQLiteError.self) { try SourceDatabaseCopy.copy(path, to: "\(directory.path)/copy.sqlite") }
    }
}
