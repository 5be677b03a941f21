import Foundation
import LetheStore
import Testing
@testable import LetheRepository

/// The pieces an erasure applies to a restored file, each against an outside oracle where one
/// exists (Python's csv and json modules, the sqlite3 CLI).
@Suite struct ErasureFilterTests {
    static func python(_ script: String, input: [UInt8]) throws -> String {
        let directory = NSTemporaryDirectory() + "lethe-erasure-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(input).write(to: URL(fileURLWithPath: "\(directory)/input"))
        try script.write(toFile: "\(directory)/oracle.py", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["\(directory)/oracle.py", "\(directory)/input"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: CSV

    static let csv = Array("name,email,note\r\n\"Alice, A.\",alice@example.com,\"says \"\"hi\"\"\r\nnext line\"\r\nBob,bob@example.com,\r\nAlice again,alice@example.com,x\r\nCarol,carol@example.com,last".utf8)

    @Test func csvRowsWithTheValueAreRemovedAndEveryOtherByteKept() throws {
        let (out, removed) = try CSVRowFilter.filter(ErasureFilterTests.csv, column: "email", value: "alice@example.com", path: "c.csv")
        #expect(removed == 2)
        #expect(String(decoding: out, as: UTF8.self) == "name,email,note\r\nBob,bob@example.com,\r\nCarol,carol@example.com,last")
        // Python's csv module reads the result as the rows of the original that were not Alice's.
        let oracle = """
            import csv, sys, json
            rows = list(csv.reader(open(sys.argv[1], newline='')))
            print(json.dumps(rows))
            """
        let before = try JSONSerialization.jsonObject(with: Data(try ErasureFilterTests.python(oracle, input: ErasureFilterTests.csv).utf8)) as! [[String]]
        let after = try JSONSerialization.jsonObject(with: Data(try ErasureFilterTests.python(oracle, input: out).utf8)) as! [[String]]
        #expect(after == before.filter { $0[1] != "alice@example.com" })
    }

    @Test func aCSVFileWithoutTheColumnIsRefusedNotReleased() throws {
        #expect(throws: LetheError.self) { try CSVRowFilter.filter(Array("name,mail\nA,a\n".utf8), column: "email", value: "a", path: "c.csv") }
    }

    @Test func aQuoteLeftOpenIsRefused() throws {
        #expect(throws: LetheError.self) {
            try CSVRowFilter.filter(Array("email\n\"alice@example.com\nbob\n".utf8), column: "email", value: "bob", path: "c.csv")
        }
    }

    @Test func loneCRLineEndsEndRecordsAndTheirBytesAreKept() throws {
        let input = Array("email,name\ralice@x.com,Alice\rbob@x.com,Bob\r\"carol\rquoted@x.com\",Carol\r".utf8)
        let (out, removed) = try CSVRowFilter.filter(input, column: "email", value: "alice@x.com", path: "c.csv")
        #expect(removed == 1)
        #expect(String(decoding: out, as: UTF8.self) == "email,name\rbob@x.com,Bob\r\"carol\rquoted@x.com\",Carol\r")
        // Python's csv module also reads a lone CR as a line end: the rows are the original's but Alice's.
        let oracle = """
            import csv, sys, json
            print(json.dumps(list(csv.reader(open(sys.argv[1], newline='')))))
            """
        let before = try JSONSerialization.jsonObject(with: Data(try ErasureFilterTests.python(oracle, input: input).utf8)) as! [[String]]
        let after = try JSONSerialization.jsonObject(with: Data(try ErasureFilterTests.python(oracle, input: out).utf8)) as! [[String]]
        #expect(before.count == 4)
        #expect(after == before.filter { $0[0] != "alice@x.com" })
        // A mix of line ends, each kept as it was.
        let mixed = Array("email\r\nalice@x.com\rbob@x.com\nalice@x.com\r\ncarol@x.com".utf8)
        let (mixedOut, mixedRemoved) = try CSVRowFilter.filter(mixed, column: "email", value: "alice@x.com", path: "c.csv")
        #expect(mixedRemoved == 2 && String(decoding: mixedOut, as: UTF8.self) == "email\r\nbob@x.com\ncarol@x.com")
    }

    @Test func aValueOnlyInsideAnotherFieldDoesNotMatch() throws {
        let input = Array("email,note\nbob@example.com,wrote to alice@example.com\n".utf8)
        let (out, removed) = try CSVRowFilter.filter(input, column: "email", value: "alice@example.com", path: "c.csv")
        #expect(removed == 0 && out == input)
    }

    // MARK: JSON

    static let array = Array("""
        [
          {"email": "bob@example.com", "n": [1, {"x": "]"}]},
          {"email": "alice@example.com", "note": "a \\"quoted\\" ], word"},
          {"email": "carol@example.com", "id": 7}
        ]

        """.utf8)

    @Test func jsonArrayRecordsWithTheValueAreRemovedKeepingTheOthersBytes() throws {
        let (out, removed) = try JSONRecordFilter.filter(ErasureFilterTests.array, field: "email", value: "alice@example.com", path: "p.json")
        #expect(removed == 1)
        #expect(String(decoding: out, as: UTF8.self) == """
            [
              {"email": "bob@example.com", "n": [1, {"x": "]"}]},
              {"email": "carol@example.com", "id": 7}
            ]

            """)
        let oracle = "import json, sys\nprint(json.dumps(json.load(open(sys.argv[1]))))"
        let before = try ErasureFilterTests.python(oracle, input: ErasureFilterTests.array)
        let after = try ErasureFilterTests.python(oracle, input: out)
        let expected = (try JSONSerialization.jsonObject(with: Data(before.utf8)) as! [[String: Any]]).filter { $0["email"] as? String != "alice@example.com" }
        #expect((try JSONSerialization.jsonObject(with: Data(after.utf8)) as! [[String: Any]]).map { $0["email"] as! String } == expected.map { $0["email"] as! String })
    }

    @Test func removingTheLastAndTheFirstRecordKeepsTheBrackets() throws {
        let input = Array(#"[{"e":"a"},{"e":"b"},{"e":"a"}]"#.utf8)
        let (out, removed) = try JSONRecordFilter.filter(input, field: "e", value: "a", path: "p.json")
        #expect(removed == 2 && String(decoding: out, as: UTF8.self) == #"[{"e":"b"}]"#)
        let (none, all) = try JSONRecordFilter.filter(Array(#"[{"e":"a"}]"#.utf8), field: "e", value: "a", path: "p.json")
        #expect(all == 1 && String(decoding: none, as: UTF8.self) == "[]")
    }

    @Test func integersMatchInDecimalAndBooleansNever() throws {
        let input = Array(#"[{"id":7},{"id":true},{"id":1},{"id":"7"}]"#.utf8)
        let (out, removed) = try JSONRecordFilter.filter(input, field: "id", value: "7", path: "p.json")
        #expect(removed == 2 && String(decoding: out, as: UTF8.self) == #"[{"id":true},{"id":1}]"#)
        let (kept, none) = try JSONRecordFilter.filter(input, field: "id", value: "1", path: "p.json")
        #expect(none == 1 && String(decoding: kept, as: UTF8.self) == #"[{"id":7},{"id":true},{"id":"7"}]"#)
    }

    @Test func jsonLinesLoseTheMatchingLinesOnly() throws {
        let input = Array("{\"email\":\"alice@example.com\"}\n\n{\"email\":\"bob@example.com\"}\r\n{\"email\":\"alice@example.com\",\"n\":2}".utf8)
        let (out, removed) = try JSONRecordFilter.filter(input, field: "email", value: "alice@example.com", path: "e.jsonl")
        #expect(removed == 2 && String(decoding: out, as: UTF8.self) == "\n{\"email\":\"bob@example.com\"}\r\n")
    }

    @Test func aFileThatIsNotJSONIsRefusedNotReleased() throws {
        #expect(throws: LetheError.self) { try JSONRecordFilter.filter(Array("[1, 2".utf8), field: "e", value: "a", path: "p.json") }
        #expect(throws: LetheError.self) { try JSONRecordFilter.filter(Array("{\"e\":\"a\"}\nnot json\n".utf8), field: "e", value: "a", path: "p.jsonl") }
    }

    // MARK: Globs and rules

    @Test func globsMatchWithinNamesAndDoubleStarAcrossDirectories() throws {
        let mail = try PathGlob("mail/alice@example.com/**")
        #expect(mail.matches("mail/alice@example.com") && mail.matches("mail/alice@example.com/inbox/1.eml"))
        #expect(!mail.matches("mail/bob@example.com/1.eml") && !mail.matches("mail"))
        let csv = try PathGlob("exports/*.csv")
        #expect(csv.matches("exports/contacts.csv") && csv.matches("exports/.hidden.csv") && !csv.matches("exports/old/contacts.csv"))
        #expect(try PathGlob("**/app.sqlite").matches("app.sqlite") && PathGlob("**/app.sqlite").matches("a/b/app.sqlite"))
        #expect(PathGlob.problem("/etc/passwd") != nil && PathGlob.problem("a/../b") != nil && PathGlob.problem("") != nil)
    }

    @Test func sqlRulesMustBeOneParameterisedDeleteOrUpdate() {
        func problem(_ sql: String, _ parameters: [String] = ["x"]) -> String? {
            ErasureRule.sql(statement: sql, parameters: parameters, files: nil).problem
        }
        #expect(problem("DELETE FROM contacts WHERE email = ?") == nil)
        #expect(problem("update contacts set email = NULL where email = ?;") == nil)
        #expect(problem("SELECT * FROM contacts WHERE email = ?") != nil)
        #expect(problem("DELETE FROM contacts WHERE email = 'alice@example.com'", []) != nil)
        #expect(problem("DELETE FROM contacts WHERE email = ?; DROP TABLE contacts") != nil)
        #expect(problem("DELETE FROM contacts WHERE email = :email") != nil)
        #expect(problem("DELETE FROM contacts WHERE email = ? OR name = ?") != nil)
        #expect(problem("DELETE FROM contacts WHERE name = \"Alice Smith\"", []) != nil)
        #expect(problem("DELETE FROM [my contacts] WHERE email = ?") == nil)
    }

    @Test func theRedactedFormHoldsNoValueAndNoPathGlob() {
        let rules: [ErasureRule] = [
            .sql(statement: "DELETE FROM contacts WHERE email = ?", parameters: ["alice@example.com"], files: "db/*.sqlite"),
            .path(glob: "mail/alice@example.com/**"),
            .csvRows(files: "exports/*.csv", column: "email", value: "alice@example.com"),
            .jsonRecords(files: "exports/*.json", field: "email", value: "alice@example.com"),
        ]
        for rule in rules { #expect(!rule.redacted.contains("alice")) }
    }

    // MARK: SQLite

    static func sqlite3(_ path: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    func database(wal: Bool) throws -> (path: String, bytes: [UInt8]) {
        let directory = NSTemporaryDirectory() + "lethe-erasure-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/app.sqlite"
        _ = try ErasureFilterTests.sqlite3(path, (wal ? "PRAGMA journal_mode=WAL;" : "") + """
            CREATE TABLE contacts(id INTEGER PRIMARY KEY, name TEXT, email TEXT, notes TEXT);
            INSERT INTO contacts(name, email, notes) VALUES ('Alice', 'alice@example.com', hex(randomblob(3000))),
                ('Bob', 'bob@example.com', 'x'), ('Carol', 'carol@example.com', 'y');
            CREATE TABLE orders(id INTEGER PRIMARY KEY, email TEXT, total INTEGER);
            INSERT INTO orders(email, total) VALUES ('alice@example.com', 10), ('bob@example.com', 20);
            """)
        _ = try ErasureFilterTests.sqlite3(path, "PRAGMA wal_checkpoint(TRUNCATE)")
        return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test(arguments: [false, true]) func sqlRulesDeleteTheRowsAndLeaveNoTraceOfThemInTheFile(wal: Bool) throws {
        let (path, bytes) = try database(wal: wal)
        defer { try? FileManager.default.removeItem(atPath: FileSystem.parent(of: path)) }
        #expect(bytes.count > 0 && String(decoding: bytes, as: UTF8.self).contains("alice@example.com"))
        let (out, changed) = try SQLiteEraser.apply([
            .init(sql: "DELETE FROM contacts WHERE email = ?", parameters: ["alice@example.com"]),
            .init(sql: "UPDATE orders SET email = NULL WHERE email = ?", parameters: ["alice@example.com"]),
        ], to: bytes, path: "db/app.sqlite")
        #expect(changed == 2)
        #expect(!String(decoding: out, as: UTF8.self).contains("alice@example.com"))
        #expect(out[18] == bytes[18] && out[19] == bytes[19])
        let erased = FileSystem.parent(of: path) + "/erased.sqlite"
        try Data(out).write(to: URL(fileURLWithPath: erased))
        // The oracle: the same statements by the sqlite3 CLI on the original give the same rows.
        _ = try ErasureFilterTests.sqlite3(path, "DELETE FROM contacts WHERE email = 'alice@example.com'; UPDATE orders SET email = NULL WHERE email = 'alice@example.com';")
        let dump = "SELECT * FROM contacts; SELECT * FROM orders; PRAGMA integrity_check;"
        #expect(try ErasureFilterTests.sqlite3(erased, dump) == ErasureFilterTests.sqlite3(path, dump))
        #expect(try ErasureFilterTests.sqlite3(erased, "PRAGMA journal_mode").hasPrefix(wal ? "wal" : "delete"))
    }

    @Test func aStatementThatNoLongerFitsFailsTheFile() throws {
        let (path, bytes) = try database(wal: false)
        defer { try? FileManager.default.removeItem(atPath: FileSystem.parent(of: path)) }
        let error = try #require(throws: LetheError.self) {
            try SQLiteEraser.apply([.init(sql: "DELETE FROM people WHERE email = ?", parameters: ["a"])], to: bytes, path: "db/app.sqlite")
        }
        #expect(error.message.contains("db/app.sqlite") && error.message.contains("no such table: people"))
        #expect(throws: LetheError.self) {
            try SQLiteEraser.apply([.init(sql: "DELETE FROM contacts WHERE email = ?", parameters: ["a"])], to: Array("not a db".utf8), path: "x")
        }
    }

    @Test func valuesAreBoundNotSpliced() throws {
        let (path, bytes) = try database(wal: false)
        defer { try? FileManager.default.removeItem(atPath: FileSystem.parent(of: path)) }
        let (out, changed) = try SQLiteEraser.apply(
            [.init(sql: "DELETE FROM contacts WHERE email = ?", parameters: ["x' OR '1'='1"])], to: bytes, path: "db/app.sqlite")
        #expect(changed == 0)
        let erased = FileSystem.parent(of: path) + "/erased.sqlite"
        try Data(out).write(to: URL(fileURLWithPath: erased))
        #expect(try ErasureFilterTests.sqlite3(erased, "SELECT count(*) FROM contacts") == "3\n")
    }

    /// A tenant's database can carry its own SQL: a trigger that copies each deleted row
    /// elsewhere would keep the person in the released file. The copy runs with triggers off.
    @Test func triggersInTheFileDoNotRunAndKeepNoCopyOfTheErasedRow() throws {
        let (path, _) = try database(wal: false)
        defer { try? FileManager.default.removeItem(atPath: FileSystem.parent(of: path)) }
        _ = try ErasureFilterTests.sqlite3(path, """
            CREATE TABLE history(email TEXT, name TEXT);
            CREATE TRIGGER keep AFTER DELETE ON contacts BEGIN INSERT INTO history VALUES (old.email, old.name); END;
            CREATE TRIGGER keep2 AFTER UPDATE ON orders BEGIN INSERT INTO history VALUES (old.email, 'order'); END;
            """)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let statements: [SQLiteEraser.Statement] = [
            .init(sql: "DELETE FROM contacts WHERE email = ?", parameters: ["alice@example.com"]),
            .init(sql: "UPDATE orders SET email = NULL WHERE email = ?", parameters: ["alice@example.com"]),
        ]
        let (out, changed) = try SQLiteEraser.apply(statements, to: bytes, path: "db/app.sqlite")
        #expect(changed == 2)
        #expect(!String(decoding: out, as: UTF8.self).contains("alice@example.com"))
        let erased = FileSystem.parent(of: path) + "/erased.sqlite"
        try Data(out).write(to: URL(fileURLWithPath: erased))
        #expect(try ErasureFilterTests.sqlite3(erased, "SELECT count(*) FROM history; SELECT count(*) FROM contacts WHERE email = 'alice@example.com';") == "0\n0\n")
        // The triggers are still in the schema (the file is otherwise as it was) and the
        // sqlite3 CLI, which runs them, would have copied the row: the test is not vacuous.
        #expect(try ErasureFilterTests.sqlite3(erased, "SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name") == "keep\nkeep2\n")
        _ = try ErasureFilterTests.sqlite3(path, "DELETE FROM contacts WHERE email = 'alice@example.com'")
        #expect(try ErasureFilterTests.sqlite3(path, "SELECT email FROM history") == "alice@example.com\n")
        // The check after a purge runs the UPDATE rule again the same way: no trigger there either.
        let filter = try ErasureFilter(rules: [
            .sql(statement: "UPDATE orders SET email = NULL WHERE email = ?", parameters: ["alice@example.com"], files: "db/*"),
        ], sqliteSources: [], ledgerVersion: 1)
        #expect(try ErasureCheck.remaining(filter.contentRules(for: "db/app.sqlite"), in: out, path: "db/app.sqlite") == 0)
    }

    @Test func theCopyOfATenantDatabaseDistrustsItsSchema() throws {
        let (path, bytes) = try database(wal: false)
        defer { try? FileManager.default.removeItem(atPath: FileSystem.parent(of: path)) }
        let copy = try Database.inMemory(copying: bytes, what: "db/app.sqlite")
        #expect(try copy.query("PRAGMA trusted_schema").first?.int(0) == 0)
        // Defensive mode: the schema cannot be written directly.
        #expect(throws: SQLiteError.self) { try copy.execute("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'x'") }
        // DQS_DML off: "alice@example.com" is a column name, not a string.
        #expect(throws: SQLiteError.self) { try copy.query("SELECT count(*) FROM contacts WHERE email = \"alice@example.com\"") }
    }

    @Test func sqlAndRowRulesOnOneFileAreRefused() throws {
        let filter = try ErasureFilter(rules: [
            .sql(statement: "DELETE FROM t WHERE e = ?", parameters: ["a"], files: "data/*"),
            .csvRows(files: "data/*", column: "e", value: "a"),
        ], sqliteSources: [], ledgerVersion: 1)
        let rules = filter.contentRules(for: "data/x")
        #expect(rules.map(\.number) == [1, 2])
        #expect(throws: LetheError.self) { try ErasureFilter.apply(rules, to: [], path: "data/x") }
    }

    @Test func sqlRulesWithoutFilesApplyToTheSqliteSourcesOnly() throws {
        let filter = try ErasureFilter(
            rules: [.sql(statement: "DELETE FROM t WHERE e = ?", parameters: ["a"], files: nil)], sqliteSources: ["app.sqlite"], ledgerVersion: 1)
        #expect(filter.contentRules(for: "app.sqlite").count == 1)
        #expect(filter.contentRules(for: "db/app.sqlite").isEmpty)
    }
}
