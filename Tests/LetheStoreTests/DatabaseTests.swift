import Foundation
import LetheStore
import Testing

@Suite struct DatabaseTests {
    let scratch = Scratch()
    var path: String { "\(scratch.path)/test.sqlite" }

    let migrations = [
        Migration(id: 1, name: "t", sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, n INTEGER)"),
        Migration(id: 2, name: "u", sql: "CREATE TABLE u (x INTEGER)"),
    ]

    @Test func migrationsApplyOnceEach() throws {
        let db = try Database(path: path)
        try db.migrate(migrations)
        try db.migrate(migrations)
        #expect(try db.query("SELECT count(*) FROM schema_migrations")[0].int(0) == 2)
    }

    @Test func valuesRoundTripByTheirType() throws {
        let db = try Database(path: path)
        try db.migrate(migrations)
        try db.run("INSERT INTO t (name, data, n) VALUES (?, ?, ?)", "Zoë", [0, 1, 255] as [UInt8], Optional<Int>.none)
        let row = try db.query("SELECT name, data, n FROM t")[0]
        #expect(row.string(0) == "Zoë" && row.blob(1) == [0, 1, 255] && row.optionalInt(2) == nil)
    }

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() throws {
        struct Boom: Error {}
        let db = try Database(path: path)
        try db.migrate(migrations)
        try db.transaction { try db.run("INSERT INTO u VALUES (1)") }
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.run("INSERT INTO u VALUES (2)")
                throw Boom()
            }
        }
        #expect(try db.query("SELECT x FROM u").map { $0.int(0) } == [1])
    }

    @Test func wrongNumberOfBindingsIsAnErrorNamingTheStatement() throws {
        let db = try Database(path: path)
        try db.migrate(migrations)
        do {
            try db.run("INSERT INTO u VALUES (?)")
            Issue.record("no error")
        } catch let error as SQLiteError {
            #expect(error.sql?.contains("INSERT INTO u") == true)
        }
    }

    @Test func onlineBackupCopiesAConsistentDatabase() throws {
        let db = try Database(path: path)
        try db.migrate(migrations)
        for n in 0..<100 { try db.run("INSERT INTO u VALUES (?)", n) }
        try db.backup(to: "\(scratch.path)/copy.sqlite")
        let copy = try Database(path: "\(scratch.path)/copy.sqlite")
        #expect(try copy.query("PRAGMA integrity_check")[0].string(0) == "ok")
        #expect(try copy.query("SELECT sum(x) FROM u")[0].int(0) == 4950)
    }
}
