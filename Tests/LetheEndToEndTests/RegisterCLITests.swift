import Foundation
import Testing

/// The record of processing activities through the real binary: a tenant's register entry set,
/// shown, exported, imported, audited, kept authenticated, and carried into the destruction
/// report an auditor verifies.
@Suite struct RegisterCLITests {
    static let openssl = "/usr/bin/openssl"

    func at(_ days: Double) -> [String: String] {
        let start = ISO8601DateFormatter().date(from: "2026-03-01T02:00:00Z")!
        return ["LETHE_NOW": ISO8601DateFormatter().string(from: start.addingTimeInterval(days * 86_400))]
    }

    static let setArguments = [
        "--data-category", "contact-data", "--data-category", "special-categories", "--data-category", "other:shoe sizes",
        "--subject-category", "patients", "--subject-category", "employees",
        "--purpose", "payroll", "--purpose", "patient records, archived",
        "--retention-basis", "contract §7: 10 years after treatment",
        "--sub-processor", "Hetzner Online GmbH",
    ]

    func json(_ run: E2ERun) throws -> [String: Any] {
        #expect(run.status == 0, "\(run.output)")
        return try #require(try run.json() as? [String: Any])
    }

    @Test func registerRoundTripsThroughSetShowAndTenantShow() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        let set = try json(home.lethe(["tenant", "register", "set", "acme"] + Self.setArguments + ["--json"]))
        let shown = try json(home.lethe("tenant", "register", "show", "acme", "--json"))
        let register = try #require(shown["register"] as? [String: Any])
        #expect(register["dataCategories"] as? [String] == ["contact-data", "special-categories", "other:shoe sizes"])
        #expect(register["subjectCategories"] as? [String] == ["patients", "employees"])
        #expect(register["purposes"] as? [String] == ["payroll", "patient records, archived"])
        #expect(register["retentionBasis"] as? String == "contract §7: 10 years after treatment")
        #expect(register["subProcessors"] as? [String] == ["Hetzner Online GmbH"])
        #expect((register["updatedBy"] as? String)?.hasPrefix("e2e-tester") == true)
        #expect((set["register"] as? [String: Any])?["purposes"] as? [String] == register["purposes"] as? [String])
        // The storage location is the store's, from the configuration.
        #expect(shown["storageLocation"] as? String == "file://\(home.store)")
        // tenant show carries it, as JSON and as text.
        let details = try json(home.lethe("tenant", "show", "acme", "--json"))
        let record = try #require(details["record"] as? [String: Any])
        #expect((record["register"] as? [String: Any])?["purposes"] as? [String] == ["payroll", "patient records, archived"])
        let text = home.lethe("tenant", "show", "acme").stdout
        #expect(text.contains("payroll; patient records, archived") && text.contains("Art. 9"))
        // A partial set keeps the other fields; --clear empties one.
        _ = try json(home.lethe("tenant", "register", "set", "acme", "--purpose", "billing", "--clear", "sub-processors", "--json"))
        let changed = try #require(try json(home.lethe("tenant", "register", "show", "acme", "--json"))["register"] as? [String: Any])
        #expect(changed["purposes"] as? [String] == ["billing"])
        #expect(changed["subProcessors"] as? [String] == [])
        #expect(changed["subjectCategories"] as? [String] == ["patients", "employees"])
    }

    @Test func everyRegisterChangeIsAuditedWithTheEntrysDigest() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe(["tenant", "register", "set", "acme"] + Self.setArguments).status == 0)
        #expect(home.lethe("tenant", "register", "set", "acme", "--purpose", "billing").status == 0)
        // Setting the same again changes nothing and logs nothing.
        #expect(home.lethe("tenant", "register", "set", "acme", "--purpose", "billing").status == 0)
        let log = try #require(try home.lethe("audit", "log", "--tenant", "acme", "--json").json() as? [[String: Any]])
        let changes = log.filter { $0["operation"] as? String == "tenant.register" }
        #expect(changes.count == 2)
        let details = try #require(changes.last?["details"] as? [String: String])
        #expect(details["purposes"] == "billing")
        // The digest in the log is SHA-256 of the entry's canonical JSON, computed here by python3.
        let shown = home.lethe("tenant", "register", "show", "acme", "--json").stdout
        let digest = E2EHome.run("/usr/bin/python3", ["-c", """
            import hashlib, json, sys
            entry = json.loads(sys.argv[1])["register"]
            print(hashlib.sha256(json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest())
            """, shown])
        #expect(digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == details["sha256"])
        #expect(home.lethe("audit", "verify").status == 0)
    }

    @Test func badRegisterInputIsRefusedWithOneLine() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        let unknown = home.lethe("tenant", "register", "set", "acme", "--data-category", "shoe-sizes")
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown data category \"shoe-sizes\"") && unknown.stderr.contains("other:DESCRIPTION"))
        #expect(home.lethe("tenant", "register", "set", "acme").status == 2, "nothing to set")
        #expect(home.lethe("tenant", "register", "set", "acme", "--data-category", "other:").status == 2)
        #expect(home.lethe("tenant", "register", "set", "acme", "--clear", "everything").status == 2)
        #expect(home.lethe("tenant", "register", "set", "acme", "--purpose", "a", "--purpose", "a").status == 2)
        #expect(home.lethe("tenant", "register", "show", "nobody").status == 2)
        #expect(home.lethe("register", "export", "--format", "xml").status == 2)
        for run in [unknown] { #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.hasPrefix("lethe: ")) }
        // Nothing was logged for the refusals.
        let log = try #require(try home.lethe("audit", "log", "--tenant", "acme", "--json").json() as? [[String: Any]])
        #expect(!log.contains { $0["operation"] as? String == "tenant.register" })
    }

    @Test func exportHasOneRowPerTenantAndPurposeReadableByPythonsCSV() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        try home.addTenant("globex")
        try home.addTenant("initech")
        #expect(home.lethe(["tenant", "register", "set", "acme"] + Self.setArguments).status == 0)
        #expect(home.lethe("tenant", "register", "set", "globex", "--purpose", "=HYPERLINK(\"x\")", "--data-category", "financial").status == 0)
        let csv = home.lethe("register", "export")
        #expect(csv.status == 0, "\(csv.output)")
        try home.write("\(home.root)/register.csv", csv.stdout)
        // Python's csv module is the oracle for the quoting.
        let parsed = E2EHome.run("/usr/bin/python3", ["-c", """
            import csv, json, sys
            print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))))
            """, "\(home.root)/register.csv"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [[String: String]])
        #expect(rows.map { $0["tenant"]! } == ["acme", "acme", "globex", "initech"])
        #expect(rows.map { $0["purpose"]! } == ["payroll", "patient records, archived", "'=HYPERLINK(\"x\")", ""])
        #expect(rows[0]["special_categories"] == "yes" && rows[2]["special_categories"] == "no")
        #expect(rows[0]["data_categories"] == "contact-data; special-categories; other:shoe sizes")
        #expect(rows.allSatisfy { $0["storage_location"] == "file://\(home.store)" })
        let json = try #require(try home.lethe("register", "export", "--format", "json").json() as? [[String: Any]])
        #expect(json.count == 4)
        #expect(json[1]["subjectCategories"] as? [String] == ["patients", "employees"])
    }

    @Test func importCarriesTheRegisterObject() throws {
        let home = try E2EHome()
        try FileManager.default.createDirectory(atPath: "\(home.data)/a", withIntermediateDirectories: true)
        let line = """
            {"id": "acme", "sources": ["dir:\(home.data)/a"], "register": {"purposes": ["payroll"], "dataCategories": ["identifiers"], "subProcessors": ["Hetzner"]}}
            {"id": "globex", "sources": ["dir:\(home.data)/a"]}

            """
        try home.write("\(home.root)/tenants.jsonl", line)
        #expect(home.lethe("tenant", "import", "\(home.root)/tenants.jsonl").status == 0)
        let register = try #require(try json(home.lethe("tenant", "register", "show", "acme", "--json"))["register"] as? [String: Any])
        #expect(register["purposes"] as? [String] == ["payroll"] && register["dataCategories"] as? [String] == ["identifiers"])
        // No register: an explicit null, as every absent value in --json.
        #expect(try json(home.lethe("tenant", "register", "show", "globex", "--json"))["register"] is NSNull)
        // Running it again finds both registered as the file says.
        let again = try json(home.lethe("tenant", "import", "\(home.root)/tenants.jsonl", "--json"))
        #expect(again["alreadyPresent"] as? [String] == ["acme", "globex"])
        let log = try #require(try home.lethe("audit", "log", "--tenant", "acme", "--json").json() as? [[String: Any]])
        #expect(log.filter { $0["operation"] as? String == "tenant.register" }.count == 1)
        // A bad register imports nothing.
        try home.write("\(home.root)/bad.jsonl", """
            {"id": "hooli", "sources": ["dir:\(home.data)/a"], "register": {"purposes": ["x"], "dataCategory": ["financial"]}}
            {"id": "umbrella", "sources": ["dir:\(home.data)/a"], "register": {"dataCategories": ["shoe-sizes"]}}

            """)
        let bad = home.lethe("tenant", "import", "\(home.root)/bad.jsonl")
        #expect(bad.status == 2 && bad.stderr.contains("unknown register field \"dataCategory\"") && bad.stderr.contains("shoe-sizes"))
        #expect(home.lethe("tenant", "show", "hooli").status == 2)
    }

    /// The register lives in the sealed record: the catalog's copy, which H can edit, is not
    /// what `register show` or the export reads.
    @Test func aRegisterEditedInTheCatalogIsNotBelieved() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe("tenant", "register", "set", "acme", "--purpose", "payroll").status == 0)
        let edit = E2EHome.run("/usr/bin/sqlite3", [
            "\(home.home)/catalog.sqlite", "UPDATE tenants SET record = replace(record, 'payroll', 'nothing-to-see') WHERE id = 'acme'",
        ])
        #expect(edit.status == 0, "\(edit.output)")
        #expect(home.lethe("tenant", "register", "show", "acme").stdout.contains("payroll"))
        #expect(!home.lethe("register", "export").stdout.contains("nothing-to-see"))
    }

    /// H deleting a tenant's row from the catalog does not take it out of the record of
    /// processing activities: the export enumerates the tenants the store and keystore hold.
    @Test func aTenantDeletedFromTheCatalogIsStillInTheExport() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        try home.addTenant("globex")
        #expect(home.lethe("tenant", "register", "set", "globex", "--purpose", "payroll").status == 0)
        let edit = E2EHome.run("/usr/bin/sqlite3", ["\(home.home)/catalog.sqlite", "DELETE FROM tenants WHERE id = 'globex'"])
        #expect(edit.status == 0, "\(edit.output)")
        let export = home.lethe("register", "export")
        #expect(export.status == 0, "\(export.output)")
        #expect(export.stdout.contains("globex") && export.stdout.contains("payroll"), "\(export.stdout)")
    }

    /// The entry set before the request is in the signed request bytes and in the report, and
    /// `report verify` checks that the two agree.
    @Test func theRegisterIsCarriedIntoTheDestructionReport() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe(["tenant", "register", "set", "acme"] + Self.setArguments, environment: at(0)).status == 0)
        #expect(home.lethe(["backup", "--all"], environment: at(0)).status == 0)
        #expect(home.lethe(["tenant", "offboard", "acme", "--window-days", "1"], environment: at(0)).status == 0)
        for who in ["dana", "carl"] {
            #expect(E2EHome.run(Self.openssl, ["genpkey", "-algorithm", "ed25519", "-out", "\(home.root)/\(who).pem"]).status == 0)
            #expect(E2EHome.run(Self.openssl, ["pkey", "-in", "\(home.root)/\(who).pem", "-pubout", "-out", "\(home.root)/\(who).pub.pem"]).status == 0)
        }
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")])
        let request = try json(home.lethe(["destroy", "request", "acme", "--reason", "retention-expired", "--json"], environment: at(2)))
        let id = try #require(request["id"] as? String)
        // The register cannot change under an open request (it would change the inventory).
        #expect(home.lethe(["tenant", "register", "set", "acme", "--purpose", "other"], environment: at(2)).status == 4)
        let raw = home.lethe("destroy", "show", id, "--raw").stdout
        #expect(raw.contains("\"register\":{") && raw.contains("patient records, archived"))
        for who in ["dana", "carl"] {
            #expect(home.lethe(["destroy", "approve", id, "--key", "\(home.root)/\(who).pem"], environment: at(2)).status == 0)
        }
        #expect(home.lethe(["destroy", "execute", id], environment: at(3.1)).status == 0)
        let report = "rpt-" + id.dropFirst(3)
        let shown = try json(home.lethe("report", "show", report, "--json"))
        let register = try #require(shown["register"] as? [String: Any])
        #expect(register["purposes"] as? [String] == ["payroll", "patient records, archived"])
        #expect(register["dataCategories"] as? [String] == ["contact-data", "special-categories", "other:shoe sizes"])
        let verify = home.lethe("report", "verify", report)
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("register"))
        let evidence = "\(home.root)/evidence"
        #expect(home.lethe("report", "export", report, "--output", evidence).status == 0)
        let html = try String(contentsOfFile: "\(evidence)/\(report).html", encoding: .utf8)
        #expect(html.contains("Record of processing") && html.contains("Hetzner Online GmbH"))
    }
}

extension RegisterCLITests {
    /// On an S3 store, the register's storage location is the bucket, from the configuration.
    @Test func theStorageLocationOfAnS3StoreIsItsBucketAndEndpoint() throws {
        let (home, bucket, credentials) = try S3EndToEndTests().home()
        _ = try home.addTenantOnS3("acme", credentials)
        let endpoint = try S3EndToEndTests.service()["endpoint"]!
        let set = home.lethe(["tenant", "register", "set", "acme", "--purpose", "billing", "--json"], environment: credentials)
        #expect(set.status == 0, "\(set.output)")
        let view = try #require(try set.json() as? [String: Any])
        #expect(view["storageLocation"] as? String == "s3://\(bucket)/lethe at \(endpoint) (region us-east-1)")
        let rows = try #require(try home.lethe(["register", "export", "--format", "json"], environment: credentials).json() as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["storageLocation"] as? String == view["storageLocation"] as? String)
    }
}
