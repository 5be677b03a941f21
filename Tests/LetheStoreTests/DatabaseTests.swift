import Foundation
import LetheStore
import Testing

@Suite struct DatabaseTests {
    let directory = TestDirectory()
    var path: String { "\(directory.path)/test.sqlite" }

    let migrations = [
        Migration(id: 1, name: "t", sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, n INTEGER, r REAL)"),
        Migration(id: 2, name: "u", sql: "CREATE TABLE u (x INTEGER)"),
        Migration(id: 3, name: "seed", sql: "INSERT INTO u VALUES (42)"),
    ]

    func open() throws -> Database {
        let db = try Database(path: path)
        try db.migrate(migrations)
        return db
    }

    @Test func migrationsApplyOnceEachEvenWhenRunAgain() throws {
        let db = try open()
        try db.migrate(migrations)
        let reopened = try Database(path: path)
        try reopened.migrate(migrations)
        #expect(try reopened.query("SELECT id FROM schema_migrations ORDER BY id").map { $0.int(0) } == [1, 2, 3])
        #expect(try reopened.query("SELECT count(*) FROM u")[0].int(0) == 1, "the seeding migration ran once")
        withExtendedLifetime(db) {}
    }

    @Test func aLaterMigrationIsAppliedOnTopOfEarlierOnes() throws {
        let db = try open()
        try db.migrate(migrations + [Migration(id: 4, name: "v", sql: "CREATE TABLE v (y TEXT)")])
        #expect(try db.query("SELECT name FROM schema_migrations WHERE id = 4")[0].string(0) == "v")
        try db.run("INSERT INTO v VALUES (?)", "ok")
    }

    @Test func aFailingMigrationIsNotRecorded() throws {
        let db = try open()
        #expect(throws: SQLiteError.self) { try db.migrate([Migration(id: 9, name: "bad", sql: "CREATE TABLE broken (")]) }
        #expect(try db.query("SELECT count(*) FROM schema_migrations WHERE id = 9")[0].int(0) == 0)
    }

    @Test func valuesRoundTripByTheirType() throws {
        let db = try open()
        let blob: [UInt8] = [0, 1, 0, 255]
        try db.run("INSERT INTO t (name, data, n, r) VALUES (?, ?, ?, ?)", "Zoë 日本", blob, Int64.min, 0.5)
        try db.run("INSERT INTO t (name, data, n, r) VALUES (?, ?, ?, ?)", Optional<String>.none, [UInt8](), Int64.max, true)
        let rows = try db.query("SELECT name, data, n, r FROM t ORDER BY id")
        #expect(rows[0].values == [.text("Zoë 日本"), .blob(blob), .integer(Int64.min), .real(0.5)])
        #expect(rows[1].values[0] == .null && rows[1].optionalString(0) == nil && rows[1].optionalInt(0) == nil)
        #expect(rows[1].blob(1) == [])
        #expect(rows[1].values[2] == .integer(Int64.max))
        #expect(rows[1].int(3) == 1)
    }

    @Test func bindingsAreValuesNeverSQL() throws {
        let db = try open()
        let hostile = "x'); DROP TABLE u; --"
        try db.run("INSERT INTO t (name) VALUES (?)", hostile)
        #expect(try db.query("SELECT name FROM t")[0].string(0) == hostile)
        #expect(try db.query("SELECT count(*) FROM u")[0].int(0) == 1)
    }

    @Test func aPreparedStatementRunsRepeatedlyWithNewBindings() throws {
        let db = try open()
        let insert = try db.prepare("INSERT INTO u VALUES (?)")
        for n in 0..<5 { try insert.run(n) }
        let select = try db.prepare("SELECT count(*) FROM u WHERE x < ?")
        #expect(try select.query(3)[0].int(0) == 3)
        #expect(try select.query(100)[0].int(0) == 6)
    }

    @Test func transactionCommitsOnReturn() throws {
        let db = try open()
        let value = try db.transaction {
            try db.run("INSERT INTO u VALUES (1)")
            return 7
        }
        #expect(value == 7)
        #expect(try Database(path: path).query("SELECT count(*) FROM u WHERE x = 1")[0].int(0) == 1, "visible to another connection")
    }

    @Test func transactionRollsBackOnThrow() throws {
        struct Boom: Error {}
        let db = try open()
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.run("INSERT INTO u VALUES (2)")
                try db.run("DELETE FROM u WHERE x = 42")
                throw Boom()
            }
        }
        #expect(try db.query("SELECT x FROM u").map { $0.int(0) } == [42])
        try db.transaction { try db.run("INSERT INTO u VALUES (3)") }
        #expect(try db.query("SELECT x FROM u ORDER BY x").map { $0.int(0) } == [3, 42], "a new transaction can start")
    }

    @Test(arguments: [0, 2])
    func wrongNumberOfBindingsIsAnErrorNamingTheStatement(_ count: Int) throws {
        let db = try open()
        let bindings: [SQLBindable] = Array(repeating: 1, count: count)
        let error = #expect(throws: SQLiteError.self) { try db.prepare("INSERT INTO u VALUES (?)").run(bindings) }
        #expect(error?.sql?.contains("INSERT INTO u") == true)
        #expect(try db.query("SELECT count(*) FROM u")[0].int(0) == 1, "nothing was inserted")
    }

    @Test func invalidSQLIsAnErrorNamingTheStatement() throws {
        let db = try open()
        let error = #expect(throws: SQLiteError.self) { _ = try db.query("SELEKT 1") }
        #expect(error?.sql == "SELEKT 1")
        #expect(error?.description.contains("SELEKT 1") == true)
    }

    @Test func onlineBackupCopiesEveryRowAndPassesIntegrityCheck() throws {
        let db = try open()
        try db.transaction {
            for n in 0..<1000 { try db.run("INSERT INTO t (name, data, n) VALUES (?, ?, ?)", "row \(n)", testBytes(n % 50, seed: UInt64(n)), n) }
        }
        let copyPath = "\(directory.path)/copy.sqlite"
        try db.backup(to: copyPath)
        let copy = try Database(path: copyPath, readOnly: true)
        #expect(try copy.query("PRAGMA integrity_check").map { $0.string(0) } == ["ok"])
        let select = "SELECT id, name, data, n FROM t ORDER BY id"
        #expect(try copy.query(select).map(\.values) == db.query(select).map(\.values))
        #expect(try copy.query("SELECT id FROM schema_migrations ORDER BY id").map { $0.int(0) } == [1, 2, 3])
    }

    @Test func openingAMissingDatabaseReadOnlyFails() {
        #expect(throws: SQLiteError.self) { _ = try Database(path: "\(directory.path)/none.sqlite", readOnly: true) }
    }
}
