import Foundation
import Testing

/// Every verb's `--json` output against its published JSON Schema (docs/schema/), checked by
/// the Python `jsonschema` package, a validator Lethe did not write. The verbs come from the
/// binary's own command table (`lethe --help`, then each `lethe VERB --help` that offers
/// `--json`): a new verb with `--json` and no schema, or one this test does not run, fails.
@Suite struct JSONSchemaTests {
    static let schemaDirectory = "\(E2EHome.repository)/docs/schema"
    static let checker = "\(E2EHome.repository)/Scripts/check-json-schemas.py"

    /// The verbs whose help lists the `--json` flag, as `lethe --help` names them ("tenant show").
    /// An option that merely shares the name (`erase request --json GLOB`, a rule) does not count.
    static func verbsTakingJSON() throws -> [String] {
        let help = E2EHome.run(E2EHome.binary, ["--help"]).stdout
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "Commands:"), "lethe --help has no Commands: list")
        var verbs: [String] = []
        for line in lines[(start + 1)...] {
            guard line.hasPrefix("  "), let end = line.dropFirst(2).range(of: "  ") else { break }
            let verb = String(line.dropFirst(2)[..<end.lowerBound])
            let verbHelp = E2EHome.run(E2EHome.binary, verb.split(separator: " ").map(String.init) + ["--help"])
            #expect(verbHelp.status == 0, "lethe \(verb) --help: \(verbHelp.output)")
            let offersJSON = verbHelp.stdout.split(separator: "\n").contains { line in
                line.hasPrefix("  --json ") && line.dropFirst("  --json ".count).drop { $0 == " " }.hasPrefix("print the result as JSON")
            }
            if offersJSON { verbs.append(verb) }
        }
        return verbs
    }

    /// Verbs that print JSON through another option than `--json` (so their help lists no flag),
    /// with that option: they have a schema and are run here too.
    static let otherJSON = ["register export": ["--format", "json"]]

    /// The validator must be there: a schema test that skips when it is missing proves nothing.
    static func requireValidator() throws {
        let probe = E2EHome.run("/usr/bin/env", ["python3", "-c", "import jsonschema, referencing; jsonschema.Draft202012Validator"])
        guard probe.status == 0 else {
            throw E2EError("the Python package jsonschema is not installed (Scripts/test.sh installs it: "
                + "python3 -m pip install jsonschema): \(probe.output)")
        }
    }

    /// Runs the checker over `directory`; returns its exit status and what it printed.
    static func check(_ directory: String) -> E2ERun {
        E2EHome.run("/usr/bin/env", ["python3", checker, schemaDirectory, directory])
    }

    /// Runs `lethe ARGS… --json` (or the verb's own JSON option) in `home` and keeps standard
    /// output under the verb's name.
    final class Recorder {
        let home: E2EHome
        let directory: String
        private(set) var counts: [String: Int] = [:]

        init(_ home: E2EHome) throws {
            self.home = home
            directory = "\(home.root)/json-outputs"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        @discardableResult
        func run(_ verb: String, _ arguments: [String] = [], at time: String? = nil, status: Int32 = 0) throws -> [String: Any]? {
            let words = verb.split(separator: " ").map(String.init)
            let run = home.lethe(words + arguments + (JSONSchemaTests.otherJSON[verb] ?? ["--json"]), environment: time.map { ["LETHE_NOW": $0] } ?? [:])
            #expect(run.status == status, "lethe \(verb) \(arguments.joined(separator: " ")) --json: \(run.output)")
            let count = counts[verb, default: 0] + 1
            counts[verb] = count
            try home.write("\(directory)/\(verb.replacingOccurrences(of: " ", with: "-")).\(count).json", run.stdout)
            return try? run.json() as? [String: Any]
        }
    }

    static let day0 = "2026-03-01T02:00:00Z", day2 = "2026-03-03T02:00:00Z", day4 = "2026-03-05T02:00:00Z"
    static let day5 = "2026-03-06T02:00:00Z", day6 = "2026-03-07T02:00:00Z"

    @Test func everyVerbsJSONValidatesAgainstItsPublishedSchema() throws {
        try Self.requireValidator()
        let verbs = try Self.verbsTakingJSON() + Self.otherJSON.keys
        #expect(verbs.count > 30, "the command list was read: \(verbs)")

        let home = try E2EHome(initialize: false)
        let r = try Recorder(home)
        try r.run("init", ["--keys", home.keys])
        try r.run("config show")
        #expect(home.lethe("config", "set", "incidentBackupFailureNights", "5").status == 0)
        try r.run("config show")
        try SampleTree.make(at: "\(home.data)/acme", seed: 1)
        try SampleTree.make(at: "\(home.data)/globex", seed: 2)
        try r.run("tenant add", ["acme", "--source", "dir:\(home.data)/acme", "--name", "Acme"], at: Self.day0)
        try home.write("\(home.root)/import.jsonl", #"{"id":"globex","sources":["dir:\#(home.data)/globex"]}"# + "\n")
        try r.run("tenant import", ["\(home.root)/import.jsonl"], at: Self.day0)
        // acme's register is complete (its destruction request and report carry it); globex's
        // has no retention basis (null). Before, the export has a row with empty cells for each.
        try r.run("tenant register show", ["acme"])
        try r.run("register export")
        try r.run("tenant register set", [
            "acme", "--data-category", "contact-data", "--data-category", "other:scanned contracts", "--subject-category", "customers",
            "--purpose", "backup", "--purpose", "archiving", "--retention-basis", "contract clause 4", "--sub-processor", "Hetzner",
        ], at: Self.day0)
        try r.run("tenant register set", ["globex", "--purpose", "backup"], at: Self.day0)
        try r.run("tenant register show", ["acme"])
        try r.run("register export")
        try r.run("backup", ["--all"], at: Self.day0)
        try r.run("backup", ["acme"], at: Self.day0)
        try r.run("snapshots")
        try r.run("ls", ["latest", "--tenant", "acme"])
        try r.run("ls", ["latest", "docs", "--tenant", "acme"])
        try r.run("restore", ["acme", "--target", "\(home.root)/restored"])
        try r.run("restore", ["acme", "--target", "\(home.root)/restored-docs", "--path", "docs"])
        try r.run("export", ["acme", "--output", "\(home.root)/acme.tar"])
        try r.run("verify", ["--read-data"])
        try r.run("forget", ["--all", "--dry-run"])
        try r.run("prune", ["--all", "--dry-run"])
        try r.run("tenant list")
        try r.run("tenant show", ["acme"])
        try r.run("tenant hold", ["globex", "--reason", "litigation"], at: Self.day0)
        try r.run("tenant release", ["globex", "--reason", "settled"], at: Self.day0)
        try r.run("tenant retention", ["globex", "--keep-last", "3"])
        try r.run("tenant offboard", ["acme", "--window-days", "1"], at: Self.day0)
        try r.run("tenant show", ["acme"], at: Self.day0)
        try r.run("due", at: Self.day2)
        try r.run("authorizer list")

        // Two authorizers, keys made by openssl: dana signs with lethe, carl with openssl.
        for who in ["dana", "carl"] {
            #expect(E2EHome.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", "\(home.root)/\(who).pem"]).status == 0)
            #expect(E2EHome.run("/usr/bin/openssl", ["pkey", "-in", "\(home.root)/\(who).pem", "-pubout", "-out", "\(home.root)/\(who).pub.pem"]).status == 0)
        }
        try r.run("authorizer add", ["dana", "--role", "dpo", "--public-key", "\(home.root)/dana.pub.pem"])
        try r.run("authorizer add", ["carl", "--role", "officer", "--public-key", "\(home.root)/carl.pub.pem"])
        try r.run("authorizer policy", ["--grace-hours", "1"])
        try r.run("authorizer sign", ["--key", "\(home.root)/dana.pem"])
        try r.run("authorizer proposal")
        try home.write("\(home.root)/proposal.json", home.lethe("authorizer", "proposal", "--raw").stdout)
        try sign(home, "\(home.root)/proposal.json", as: "carl")
        try r.run("authorizer sign", ["--authorizer", "carl", "--signature", "\(home.root)/proposal.json.sig"])
        try r.run("authorizer list")
        try r.run("authorizer remove", ["carl", "--reason", "left the company"])
        #expect(home.lethe("authorizer", "discard", "--reason", "not yet").status == 0)

        // The nightly run opens acme's request; it is approved and executed; globex's is cancelled.
        try r.run("nightly", at: Self.day2)
        let listed = try #require(try home.lethe(["destroy", "list", "--json"], environment: ["LETHE_NOW": Self.day2]).json() as? [[String: Any]])
        let request = try #require(listed.first?["id"] as? String)
        try r.run("destroy list", at: Self.day2)
        try r.run("destroy show", [request])
        try r.run("destroy approve", [request, "--key", "\(home.root)/dana.pem"], at: Self.day2)
        try home.write("\(home.root)/request.json", home.lethe("destroy", "show", request, "--raw").stdout)
        try sign(home, "\(home.root)/request.json", as: "carl")
        try r.run("destroy approve", [request, "--authorizer", "carl", "--signature", "\(home.root)/request.json.sig"], at: Self.day2)
        try r.run("destroy show", [request])
        try r.run("destroy execute", [request], at: Self.day4)
        let opened = try #require(try r.run("destroy request", ["globex", "--reason", "client-request", "--note", "by mail"], at: Self.day4))
        let second = try #require(opened["id"] as? String)
        try r.run("destroy cancel", [second, "--reason", "sent in error"], at: Self.day4)
        try r.run("destroy list", at: Self.day4)
        let reports = try #require(try home.lethe("report", "list", "--json").json() as? [[String: Any]])
        let report = try #require(reports.first?["id"] as? String)
        try r.run("report list")
        try r.run("report show", [report])
        try r.run("report verify", [report])
        // The signed report is printed as signed, not a byte added: openssl verifies both outputs
        // with the signature `report export` hands the auditor.
        let evidence = "\(home.root)/evidence"
        #expect(home.lethe("report", "export", report, "--output", evidence).status == 0)
        for output in ["report-show.1.json", "destroy-execute.1.json"] {
            let check = E2EHome.run("/usr/bin/openssl", [
                "pkeyutl", "-verify", "-pubin", "-inkey", "\(home.keys)/signing-key.pub.pem", "-rawin",
                "-in", "\(r.directory)/\(output)", "-sigfile", "\(evidence)/\(report).sig",
            ])
            #expect(check.status == 0 && check.stdout.contains("Signature Verified Successfully"), "\(output): \(check.output)")
        }
        try r.run("audit log")
        try r.run("audit verify")
        try r.run("audit prove", [report])
        try r.run("audit consistency", ["2", "5"])
        try r.run("keys status")
        try r.run("keys rotate")
        try r.run("keys status")

        // A backup that fails, one after it, and a nightly run that has skipped tenants.
        try FileManager.default.moveItem(atPath: "\(home.data)/globex", toPath: "\(home.data)/globex-away")
        try r.run("backup", ["globex"], at: Self.day4, status: 1)
        try FileManager.default.moveItem(atPath: "\(home.data)/globex-away", toPath: "\(home.data)/globex")
        try r.run("backup", ["globex"], at: Self.day4)
        try r.run("nightly", at: Self.day4)
        try r.run("tenant offboard", ["globex", "--window-days", "30"], at: Self.day4)
        try r.run("tenant reactivate", ["globex"], at: Self.day4)
        try r.run("index rebuild")

        // An erasure in globex's backups: listed, shown, applied to a restore and an export,
        // approved by the DPO and purged; a second one approved is purged by the nightly run.
        let erasure = home.lethe([
            "erase", "request", "globex", "--subject-ref", "ticket-4711", "--reason", "Art. 17 request",
            "--path", "docs/contracts/**", "--csv", "exports/2026-10/contacts.csv", "--column", "1", "--value", "7",
        ], environment: ["LETHE_NOW": Self.day4])
        #expect(erasure.status == 0, "\(erasure.output)")
        try r.run("erase list", ["globex"])
        let erasures = try #require(try home.lethe("erase", "list", "globex", "--json").json() as? [[String: Any]])
        let erasureID = try #require(erasures.first?["id"] as? String)
        try r.run("erase show", [erasureID])
        try r.run("restore", ["globex", "--target", "\(home.root)/restored-globex"])
        try r.run("export", ["globex", "--output", "\(home.root)/globex.tar"])
        let approved = home.lethe(["erase", "approve", erasureID, "--key", "\(home.root)/dana.pem"], environment: ["LETHE_NOW": Self.day4])
        #expect(approved.status == 0, "\(approved.output)")
        try r.run("erase purge", [erasureID], at: Self.day4)
        let certificate = home.lethe("erase", "certificate", erasureID, "--output", "\(home.root)/certificate")
        #expect(certificate.status == 0, "\(certificate.output)")
        #expect(home.lethe(["erase", "request", "globex", "--subject-ref", "ticket-4712", "--reason", "Art. 17 request", "--path", "uploads/**"],
                           environment: ["LETHE_NOW": Self.day5]).status == 0)
        let pending = try #require(try home.lethe("erase", "list", "globex", "--json").json() as? [[String: Any]])
        let nextErasure = try #require(pending.last?["id"] as? String)
        #expect(home.lethe(["erase", "approve", nextErasure, "--key", "\(home.root)/dana.pem"], environment: ["LETHE_NOW": Self.day5]).status == 0)
        let purging = try #require(try r.run("nightly", at: Self.day5))
        #expect((purging["purgesExecuted"] as? [Any])?.count == 1, "\(purging)")
        try r.run("erase list", ["globex"])

        // globex's processing log for its controller, whole and for a period, checked offline.
        try r.run("audit extract", ["globex", "--output", "\(home.root)/extract"], at: Self.day5)
        try r.run("audit verify-extract", ["\(home.root)/extract"])
        try r.run("audit extract", ["globex", "--output", "\(home.root)/extract-period", "--from", "2026-03-01", "--to", "2026-03-05T02:00:00Z"], at: Self.day5)
        try r.run("audit verify-extract", ["\(home.root)/extract-period", "--public-key", "\(home.keys)/signing-key.pub.pem"])
        // A damaged request is listed with its problem (and request and state null); exit 3.
        let state = "\(home.store)/destruction/\(second)/state.json"
        var bytes = try #require(FileManager.default.contents(atPath: state))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: state))
        try r.run("destroy list", at: Self.day4, status: 3)
        let saved = try #require(FileManager.default.contents(atPath: "\(r.directory)/destroy-list.\(r.counts["destroy list"] ?? 0).json"))
        let rows = try #require(try JSONSerialization.jsonObject(with: saved) as? [[String: Any]])
        #expect(rows.contains { $0["id"] as? String == second && $0["problem"] is String && $0["request"] is NSNull }, "\(rows)")

        // The damaged request is an integrity incident: listed, shown, acknowledged, in the
        // nightly summary with its clock, closed.
        let incidents = try #require(try home.lethe(["incident", "list", "--json"], environment: ["LETHE_NOW": Self.day5]).json() as? [[String: Any]])
        let incident = try #require((incidents.first?["incident"] as? [String: Any])?["id"] as? String, "\(incidents)")
        try r.run("incident list", at: Self.day5)
        try r.run("incident show", [incident], at: Self.day5)
        try r.run("incident ack", [incident, "--note", "on it"], at: Self.day5)
        let night = try #require(try r.run("nightly", at: Self.day6, status: 3))
        #expect((night["openIncidents"] as? [Any])?.isEmpty == false, "\(night)")
        try r.run("incident close", [incident, "--note", "restored the state file from the signed copy"], at: Self.day6)
        try r.run("incident list", ["--all"], at: Self.day6)
        try r.run("incident show", [incident], at: Self.day6)

        let exercised = Set(r.counts.keys)
        for verb in verbs {
            #expect(exercised.contains(verb), "lethe \(verb) takes --json but this test does not run it: add it above")
            #expect(FileManager.default.fileExists(atPath: "\(Self.schemaDirectory)/\(verb.replacingOccurrences(of: " ", with: "-")).schema.json"),
                    "lethe \(verb) takes --json but docs/schema/ has no schema for it")
        }
        #expect(exercised.isSubset(of: Set(verbs)), "verbs run here that offer no --json: \(exercised.subtracting(verbs))")
        let published = try FileManager.default.contentsOfDirectory(atPath: Self.schemaDirectory)
            .filter { $0.hasSuffix(".schema.json") && $0 != "common.schema.json" }
            .map { String($0.dropLast(".schema.json".count)) }
        // Compared by file name: a dash inside a verb's word (`audit verify-extract`) stays a dash.
        let named = Set(verbs.map { $0.replacingOccurrences(of: " ", with: "-") })
        #expect(Set(published) == named, "schemas of no verb: \(Set(published).subtracting(named))")

        let result = Self.check(r.directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("\(r.counts.values.reduce(0, +)) outputs checked"), "\(result.stderr)")
    }

    /// The shapes issue 15 found drifting are refused by the published schemas: an `ls` mtime in
    /// Unix seconds and a decimal mode, an absent value left out instead of null, nightly's
    /// verifyBucket as "29 of 30", `due`'s old windowEnded — so the first test's pass means
    /// something.
    @Test func theSchemasRefuseTheShapesThatDrifted() throws {
        try Self.requireValidator()
        let home = try E2EHome()
        try home.write("\(home.data)/acme/notes.txt", "a file at the top\n")
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(home.data)/acme").status == 0)
        #expect(home.lethe(["backup", "acme"], environment: ["LETHE_NOW": Self.day0]).status == 0)
        #expect(home.lethe(["tenant", "offboard", "acme", "--window-days", "1"], environment: ["LETHE_NOW": Self.day0]).status == 0)
        let ls = try #require(try home.lethe("ls", "latest", "--tenant", "acme", "--json").json() as? [String: Any])
        let nightly = try #require(try home.lethe(["nightly", "--json"], environment: ["LETHE_NOW": Self.day2]).json() as? [String: Any])
        let due = try #require(try home.lethe(["due", "--json"], environment: ["LETHE_NOW": Self.day2]).json() as? [[String: Any]])
        let tenant = try #require(try home.lethe("tenant", "show", "acme", "--json").json() as? [String: Any])

        let good = "\(home.root)/good", bad = "\(home.root)/bad"
        for directory in [good, bad] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        func save(_ value: Any, _ path: String) throws {
            try JSONSerialization.data(withJSONObject: value).write(to: URL(fileURLWithPath: path))
        }
        try save(ls, "\(good)/ls.1.json")
        try save(nightly, "\(good)/nightly.1.json")
        try save(due, "\(good)/due.1.json")
        try save(tenant, "\(good)/tenant-show.1.json")
        let fine = Self.check(good)
        #expect(fine.status == 0, "\(fine.output)")

        var entries = try #require(ls["entries"] as? [[String: Any]])
        let file = try #require(entries.firstIndex { $0["kind"] as? String == "file" })
        #expect((entries[file]["mode"] as? String).map { $0.count == 4 && $0.allSatisfy { "01234567".contains($0) } } == true)
        entries[file]["mtime"] = 1_760_000_000
        entries[file]["mode"] = 420
        entries[file].removeValue(forKey: "subtree")
        var oldLs = ls
        oldLs["entries"] = entries
        try save(oldLs, "\(bad)/ls.1.json")
        var oldNightly = nightly
        oldNightly["verifyBucket"] = "29 of 30"
        try save(oldNightly, "\(bad)/nightly.1.json")
        var oldDue = due
        oldDue[0]["windowEnded"] = oldDue[0].removeValue(forKey: "windowEnd")
        try save(oldDue, "\(bad)/due.1.json")
        // A tenant without a register has `"register": null`, not no field; storageLocation is there.
        var oldTenant = tenant
        var record = try #require(tenant["record"] as? [String: Any])
        #expect(record["register"] is NSNull, "\(record)")
        record.removeValue(forKey: "register")
        oldTenant["record"] = record
        oldTenant.removeValue(forKey: "storageLocation")
        try save(oldTenant, "\(bad)/tenant-show.1.json")

        let refused = Self.check(bad)
        #expect(refused.status == 1)
        for problem in ["ls.1.json: entries/\(file)/mtime", "ls.1.json: entries/\(file)/mode", "'subtree' is a required property",
                        "nightly.1.json: verifyBucket", "'windowEnd' is a required property", "'windowEnded' was unexpected",
                        "'register' is a required property", "'storageLocation' is a required property"] {
            #expect(refused.stdout.contains(problem), "\(problem) not in: \(refused.stdout)")
        }
    }

    /// `FILE.sig`: `who`'s Ed25519 signature over FILE, made by openssl.
    func sign(_ home: E2EHome, _ file: String, as who: String) throws {
        let run = E2EHome.run("/usr/bin/openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", "\(home.root)/\(who).pem", "-in", file, "-out", "\(file).sig"])
        #expect(run.status == 0, "\(run.output)")
    }
}
