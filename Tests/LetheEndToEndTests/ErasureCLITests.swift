import Foundation
import Testing

/// One person erased from a tenant holding a SQLite app database inside its tree, a second
/// database as a `sqlite:` source, contact CSVs, JSON exports and mail folders; every snapshot
/// restored and exported with the real binary, and checked against the sqlite3 CLI, tar and
/// the source files themselves.
@Suite struct ErasureCLITests {
    static let people = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
    static let alice = "alice@example.com"

    /// The tenant's tree and its second database, generated here (no shared generator).
    final class Tenant {
        let home: E2EHome
        var tree: String { "\(home.data)/acme" }
        var crm: String { "\(home.data)/crm.sqlite" }
        /// Each snapshot's id with a copy of the tree and the crm database as backed up.
        var snapshots: [(id: String, copy: String)] = []
        /// The records of `exports/people.json`.
        var records: [String] = []

        init(_ home: E2EHome) throws {
            self.home = home
            try sql("\(tree)/db/app.sqlite", "PRAGMA journal_mode=WAL; CREATE TABLE contacts(id INTEGER PRIMARY KEY, name TEXT, email TEXT UNIQUE, notes TEXT); CREATE TABLE orders(id INTEGER PRIMARY KEY, email TEXT, total INTEGER);")
            try sql(crm, "CREATE TABLE leads(id INTEGER PRIMARY KEY, email TEXT, score INTEGER);")
            try home.write("\(tree)/exports/contacts.csv", "name,email,phone\r\n")
            try home.write("\(tree)/README.md", "acme app data\n")
            for (offset, email) in ErasureCLITests.people.enumerated() { try add(email, number: offset) }
            #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(tree)", "--source", "crm.sqlite=sqlite:\(crm)").status == 0)
        }

        func sql(_ path: String, _ statements: String) throws {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            let run = E2EHome.run("/usr/bin/sqlite3", [path, statements])
            guard run.status == 0 else { throw E2EError("sqlite3: \(run.output)") }
        }

        /// Adds one person everywhere: rows, CSV line, JSON record, mail folder.
        func add(_ email: String, number: Int) throws {
            let name = String(email.prefix { $0 != "@" }).capitalized
            try sql("\(tree)/db/app.sqlite", "INSERT INTO contacts(name, email, notes) VALUES ('\(name)', '\(email)', hex(randomblob(2000))); INSERT INTO orders(email, total) VALUES ('\(email)', \(number * 10 + 5)), ('\(email)', \(number));")
            try sql(crm, "INSERT INTO leads(email, score) VALUES ('\(email)', \(number));")
            let csv = try String(contentsOfFile: "\(tree)/exports/contacts.csv", encoding: .utf8)
            try home.write("\(tree)/exports/contacts.csv", csv + "\"\(name), Jr.\",\(email),+49 30 \(1000 + number)\r\n")
            records.append("  {\"email\": \"\(email)\", \"id\": \(number)}")
            try home.write("\(tree)/exports/people.json", "[\n" + records.joined(separator: ",\n") + "\n]\n")
            try home.write("\(tree)/mail/\(email)/inbox/\(number).eml", "From: \(email)\nSubject: hello \(number)\n\nbody\n")
        }

        /// Backs up and keeps a copy of what was backed up.
        func backup() throws {
            #expect(home.lethe("backup", "acme").status == 0)
            let id = try #require((try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]])?.map { $0["id"] as! String }
                .first { id in !snapshots.contains { $0.id == id } })
            let copy = "\(home.root)/copy-\(snapshots.count)"
            #expect(E2EHome.run("/bin/cp", ["-a", tree, copy]).status == 0)
            #expect(E2EHome.run("/bin/cp", [crm, "\(copy).crm.sqlite"]).status == 0)
            snapshots.append((id, copy))
        }

        func eraseAlice() -> E2ERun {
            home.lethe(
                "erase", "request", "acme", "--subject-ref", "ticket-4711", "--reason", "Art. 17 request of 2026-12-01",
                "--sql", "DELETE FROM contacts WHERE email = ?", "--param", ErasureCLITests.alice, "--file", "db/*.sqlite",
                "--sql", "DELETE FROM orders WHERE email = ? AND total >= ?", "--param", ErasureCLITests.alice, "--param", "0", "--file", "db/app.sqlite",
                "--sql", "DELETE FROM leads WHERE email = ?", "--param", ErasureCLITests.alice,
                "--path", "mail/\(ErasureCLITests.alice)/**",
                "--csv", "exports/*.csv", "--column", "email", "--value", ErasureCLITests.alice,
                "--json", "exports/*.json", "--field", "email", "--value", ErasureCLITests.alice)
        }
    }

    /// The sqlite3 CLI's dump of `path` after the same deletions, run by sqlite3 itself with
    /// the values as literals: the oracle for a restored database.
    static func expectedDump(of path: String, statements: String, in directory: String) throws -> String {
        let copy = "\(directory)/oracle-\(UUID().uuidString).sqlite"
        #expect(E2EHome.run("/bin/cp", [path, copy]).status == 0)
        #expect(E2EHome.run("/usr/bin/sqlite3", [copy, statements]).status == 0)
        return E2EHome.run("/usr/bin/sqlite3", [copy, ".dump"]).stdout
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Checks a restored (or extracted) tree of snapshot `copy`: Alice absent, all else equal.
    static func checkErased(_ restored: String, copy: String, directory: String) throws {
        let app = try expectedDump(of: "\(copy)/db/app.sqlite", statements: "DELETE FROM contacts WHERE email = '\(alice)'; DELETE FROM orders WHERE email = '\(alice)';", in: directory)
        #expect(E2EHome.run("/usr/bin/sqlite3", ["\(restored)/db/app.sqlite", ".dump"]).stdout == app)
        #expect(!app.contains(alice) && app.contains("bob@example.com"))
        let crm = try expectedDump(of: "\(copy).crm.sqlite", statements: "DELETE FROM leads WHERE email = '\(alice)';", in: directory)
        #expect(E2EHome.run("/usr/bin/sqlite3", ["\(restored)/crm.sqlite", ".dump"]).stdout == crm)
        #expect(E2EHome.run("/usr/bin/sqlite3", ["\(restored)/db/app.sqlite", "PRAGMA integrity_check; PRAGMA freelist_count;"]).stdout == "ok\n0\n")
        // Not a byte of Alice in any restored file, free pages included.
        #expect(E2EHome.run("/bin/grep", ["-rl", alice, restored]).stdout == "")
        // The CSV and JSON keep every other byte: the source without Alice's line.
        let csv = try String(contentsOfFile: "\(copy)/exports/contacts.csv", encoding: .utf8)
        let expectedCSV = csv.components(separatedBy: "\r\n").filter { !$0.contains(alice) }.joined(separator: "\r\n")
        #expect(String(decoding: bytes("\(restored)/exports/contacts.csv") ?? Data(), as: UTF8.self) == expectedCSV)
        let json = try String(contentsOfFile: "\(copy)/exports/people.json", encoding: .utf8)
        let expectedJSON = json.replacingOccurrences(of: "  {\"email\": \"\(alice)\", \"id\": 0},\n", with: "")
        #expect(expectedJSON != json)
        #expect(String(decoding: bytes("\(restored)/exports/people.json") ?? Data(), as: UTF8.self) == expectedJSON)
        // Everything else byte for byte; Alice's mail folder gone.
        #expect(!FileManager.default.fileExists(atPath: "\(restored)/mail/\(alice)"))
        for path in FileManager.default.subpaths(atPath: copy) ?? [] where !path.hasPrefix("db/") && !path.hasPrefix("exports/") && !path.contains(alice) {
            var directory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(copy)/\(path)", isDirectory: &directory), !directory.boolValue else { continue }
            #expect(bytes("\(restored)/\(path)") == bytes("\(copy)/\(path)"), "\(path)")
        }
    }

    @Test func anErasedPersonIsAbsentFromEveryRestoreAndExportAndEveryoneElseIsIdentical() throws {
        let home = try E2EHome()
        let tenant = try Tenant(home)
        try tenant.backup()
        try tenant.add("erin@example.com", number: 4)
        try tenant.backup()
        let request = tenant.eraseAlice()
        #expect(request.status == 0, "\(request.output)")
        #expect(!request.output.contains(ErasureCLITests.alice) && !request.output.contains("ticket-4711"))
        // A backup taken afterwards, while the live system still holds her, is covered too.
        try tenant.add("frank@example.com", number: 5)
        try tenant.backup()
        #expect(tenant.snapshots.count == 3)
        for (number, snapshot) in tenant.snapshots.enumerated() {
            let target = "\(home.root)/restore-\(number)"
            let restore = home.lethe("restore", "acme", snapshot.id, "--target", target, "--json")
            #expect(restore.status == 0, "\(restore.output)")
            let summary = try #require((try restore.json() as? [String: Any])?["summary"] as? [String: Any])
            let erasure = try #require(summary["erasure"] as? [String: Any])
            #expect(erasure["rulesInForce"] as? Int == 6 && erasure["entriesLeftOut"] as? Int == 1)
            let files = try #require(erasure["files"] as? [[String: Any]])
            #expect(files.map { $0["path"] as! String } == ["crm.sqlite", "db/app.sqlite", "exports/contacts.csv", "exports/people.json"])
            #expect(files.map { $0["rules"] as! [Int] } == [[3], [1, 2], [5], [6]])
            #expect(files.map { $0["changed"] as! Int } == [1, 3, 1, 1])
            try ErasureCLITests.checkErased(target, copy: snapshot.copy, directory: home.root)

            let archive = "\(home.root)/export-\(number).tar"
            let export = home.lethe("export", "acme", snapshot.id, "--output", archive)
            #expect(export.status == 0, "\(export.output)")
            #expect(export.stdout.contains("Erasure ledger version 1 (6 rules)"))
            let extracted = "\(home.root)/extracted-\(number)"
            try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
            #expect(E2EHome.run("/bin/tar", ["-xf", archive, "-C", extracted]).status == 0)
            try ErasureCLITests.checkErased(extracted, copy: snapshot.copy, directory: home.root)
        }
        // The log names the files and rules, never the person.
        let log = home.lethe("audit", "log", "--tenant", "acme", "--json")
        #expect(log.status == 0 && !log.stdout.contains(ErasureCLITests.alice) && !log.stdout.contains("ticket-4711"))
        let entries = try #require(try log.json() as? [[String: Any]])
        let restores = entries.filter { $0["operation"] as? String == "restore" }.compactMap { $0["details"] as? [String: String] }
        #expect(restores.count == 3 && restores.allSatisfy { $0["erasureFiles"] == "crm.sqlite:3;db/app.sqlite:1,2;exports/contacts.csv:5;exports/people.json:6" })
        #expect(E2EHome.run("/bin/grep", ["-rl", ErasureCLITests.alice, "\(home.store)/audit"]).stdout == "")
    }

    @Test func singleFileRestoresApplyTheLedgerToo() throws {
        let home = try E2EHome()
        let tenant = try Tenant(home)
        try tenant.backup()
        #expect(tenant.eraseAlice().status == 0)
        let one = "\(home.root)/one"
        #expect(home.lethe("restore", "acme", "--target", one, "--path", "exports/contacts.csv").status == 0)
        let csv = String(decoding: ErasureCLITests.bytes("\(one)/exports/contacts.csv") ?? Data(), as: UTF8.self)
        #expect(!csv.contains(ErasureCLITests.alice) && csv.contains("bob@example.com"))
        let mail = "\(home.root)/mail"
        let run = home.lethe("restore", "acme", "--target", mail, "--path", "mail/\(ErasureCLITests.alice)/inbox/0.eml")
        #expect(run.status == 0 && run.stdout.contains("1 entry left out"), "\(run.output)")
        #expect(E2EHome.run("/bin/grep", ["-rl", ErasureCLITests.alice, home.root + "/mail"]).stdout == "")
        #expect(!FileManager.default.fileExists(atPath: "\(mail)/mail/\(ErasureCLITests.alice)"))
    }

    @Test func listAndShowCarryOnlyTheSubjectHashAndRedactedRules() throws {
        let home = try E2EHome()
        _ = try Tenant(home)
        let request = home.lethe("erase", "request", "acme", "--subject-ref", "ticket-4711", "--reason", "r", "--path", "mail/\(ErasureCLITests.alice)/**")
        #expect(request.status == 0)
        let list = home.lethe("erase", "list", "acme", "--json")
        let requests = try #require(try list.json() as? [[String: Any]])
        #expect(requests.count == 1 && requests[0]["rules"] as? [String] == ["path (glob redacted)"])
        let id = try #require(requests[0]["id"] as? String)
        let show = home.lethe("erase", "show", String(id.prefix(12)), "--json")
        let shown = try #require(try show.json() as? [String: Any])
        #expect(show.status == 0 && shown["subjectHash"] as? String == requests[0]["subjectHash"] as? String)
        for run in [request, list, show, home.lethe("erase", "list", "acme"), home.lethe("erase", "show", id)] {
            #expect(!run.output.contains(ErasureCLITests.alice) && !run.output.contains("ticket-4711"))
        }
        // The DPO finds a person's requests by their reference, which is hashed, not stored in the clear.
        #expect((try home.lethe("erase", "list", "acme", "--subject-ref", "ticket-4711", "--json").json() as? [Any])?.count == 1)
        #expect((try home.lethe("erase", "list", "acme", "--subject-ref", "ticket-9", "--json").json() as? [Any])?.count == 0)
        // And the ledger in the store is sealed: neither the reference nor the value is in it.
        #expect(E2EHome.run("/bin/grep", ["-rl", "-e", "ticket-4711", "-e", ErasureCLITests.alice, home.store]).stdout == "")
    }

    @Test func aRuleThatNoLongerAppliesFailsTheFileAndReleasesNothingOfIt() throws {
        let home = try E2EHome()
        let tenant = try Tenant(home)
        try tenant.backup()
        let request = home.lethe("erase", "request", "acme", "--subject-ref", "t", "--reason", "r",
                                 "--sql", "DELETE FROM people WHERE email = ?", "--param", ErasureCLITests.alice, "--file", "db/app.sqlite")
        #expect(request.status == 0)
        let target = "\(home.root)/r"
        let restore = home.lethe("restore", "acme", "--target", target)
        #expect(restore.status == 1 && restore.stderr.contains("db/app.sqlite") && restore.stderr.contains("no such table: people"), "\(restore.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(target)/db/app.sqlite"))
        // Nor a temporary file of it.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: "\(target)/db")) ?? [] == [])
        let export = home.lethe("export", "acme", "--output", "\(home.root)/x.tar")
        #expect(export.status == 1 && !FileManager.default.fileExists(atPath: "\(home.root)/x.tar"))
    }

    @Test func anErasureIsRefusedWhileADestructionRequestIsOpen() throws {
        let home = try E2EHome()
        _ = try Tenant(home)
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")])
        #expect(home.lethe("destroy", "request", "acme", "--reason", "client-request").status == 0)
        let run = home.lethe("erase", "request", "acme", "--subject-ref", "t", "--reason", "r", "--path", "README.md")
        #expect(run.status == 4 && run.stderr.contains("destruction request"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(home.store)/tenants/acme/erasure-ledger"))
    }

    @Test func badRulesAreUsageErrors() throws {
        let home = try E2EHome()
        _ = try Tenant(home)
        let base = ["erase", "request", "acme", "--subject-ref", "t", "--reason", "r"]
        let cases: [([String], String)] = [
            (["--sql", "SELECT * FROM contacts WHERE email = ?", "--param", "a"], "DELETE or UPDATE"),
            (["--sql", "DELETE FROM contacts WHERE email = 'a'"], "--param"),
            (["--sql", "DELETE FROM contacts WHERE email = ?"], "0 --param"),
            (["--param", "a"], "--param belongs"),
            (["--csv", "exports/*.csv", "--column", "email"], "--value"),
            (["--path", "/etc/passwd"], "relative"),
            ([], "at least one rule"),
        ]
        for (rule, named) in cases {
            let run = home.lethe(base + rule)
            #expect(run.status == 2 && run.stderr.contains(named), "\(rule): \(run.output)")
        }
        #expect((try home.lethe("erase", "list", "acme", "--json").json() as? [Any])?.count == 0)
    }

    // MARK: The ledger is authenticated as a whole

    enum Damage: String, CaseIterable {
        case deleted, rolledBack, edited, otherTenants
    }

    @Test(arguments: Damage.allCases) func aDamagedLedgerIsAnIntegrityErrorNeverAnEmptyLedger(_ damage: Damage) throws {
        let home = try E2EHome()
        let tenant = try Tenant(home)
        try tenant.backup()
        let ledger = "\(home.store)/tenants/acme/erasure-ledger"
        #expect(tenant.eraseAlice().status == 0)
        let first = try #require(ErasureCLITests.bytes(ledger))
        #expect(home.lethe("erase", "request", "acme", "--subject-ref", "t2", "--reason", "r", "--path", "README.md").status == 0)
        switch damage {
        case .deleted:
            try FileManager.default.removeItem(atPath: ledger)
        case .rolledBack:
            try first.write(to: URL(fileURLWithPath: ledger))
        case .edited:
            var bytes = try #require(ErasureCLITests.bytes(ledger))
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: ledger))
        case .otherTenants:
            try home.write("\(home.data)/other/f", "x")
            #expect(home.lethe("tenant", "add", "other", "--source", "dir:\(home.data)/other").status == 0)
            #expect(home.lethe("erase", "request", "other", "--subject-ref", "t", "--reason", "r", "--path", "f").status == 0)
            try FileManager.default.removeItem(atPath: ledger)
            try FileManager.default.copyItem(atPath: "\(home.store)/tenants/other/erasure-ledger", toPath: ledger)
        }
        let target = "\(home.root)/r"
        let restore = home.lethe("restore", "acme", "--target", target)
        #expect(restore.status == 3 && restore.stderr.contains("tenants/acme/erasure-ledger"), "\(restore.output)")
        #expect(!FileManager.default.fileExists(atPath: target))
        let export = home.lethe("export", "acme", "--output", "\(home.root)/x.tar")
        #expect(export.status == 3 && !FileManager.default.fileExists(atPath: "\(home.root)/x.tar"))
        #expect(home.lethe("erase", "list", "acme").status == 3)
        let verify = home.lethe("verify", "acme")
        #expect(verify.status == 3 && verify.stdout.contains("erasure-ledger"), "\(verify.output)")
    }

    @Test func aRequestInterruptedBeforeItWasLoggedIsLoggedAndApplied() throws {
        let home = try E2EHome()
        let tenant = try Tenant(home)
        try tenant.backup()
        let crashed = home.lethe(["erase", "request", "acme", "--subject-ref", "t", "--reason", "r", "--path", "mail/\(ErasureCLITests.alice)/**"],
                                 environment: ["LETHE_CRASH_AT": "erase.ledger-stored"])
        #expect(crashed.status == 86)
        let logged = { (try home.lethe("audit", "log", "--tenant", "acme", "--json").json() as? [[String: Any]] ?? []).filter { $0["operation"] as? String == "erase.request" } }
        #expect(try logged().isEmpty)
        let target = "\(home.root)/r"
        #expect(home.lethe("restore", "acme", "--target", target).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(target)/mail/\(ErasureCLITests.alice)"))
        let entries = try logged()
        #expect(entries.count == 1 && (entries[0]["details"] as? [String: String])?["recovered"] != nil)
        #expect(home.lethe("verify", "acme").status == 0)
    }
}

