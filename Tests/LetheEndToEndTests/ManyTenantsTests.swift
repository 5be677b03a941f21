import Foundation
import Testing

/// A thousand small tenants, as a processor has them: registered by `tenant import`, backed up
/// by `backup --all`, run after run. Regression for the lock-folder race that lost one or two
/// tenants in most runs ("cannot create directory …/store/locks/t643: No such file or
/// directory"); every tenant must succeed every time.
@Suite struct ManyTenantsTests {
    static let count = 1000

    func importTenants(_ home: E2EHome) throws {
        var lines = ""
        for n in 1...ManyTenantsTests.count {
            let directory = "\(home.data)/t\(n)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data("contact \(n)\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/contacts.csv"))
            try Data("ticket \(n)\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/ticket.txt"))
            lines += #"{"id":"t\#(n)","name":"Tenant \#(n)","sources":["dir:\#(directory)"]}"# + "\n"
        }
        try Data(lines.utf8).write(to: URL(fileURLWithPath: "\(home.root)/tenants.jsonl"))
        let run = home.lethe("tenant", "import", "\(home.root)/tenants.jsonl")
        try #require(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains("Imported 1000 tenants"))
    }

    @Test func everyTenantBacksUpInEveryRun() throws {
        let home = try E2EHome()
        try importTenants(home)
        for round in 1...3 {
            if round == 3 {
                // Some churn: a new file for every tenth tenant.
                for n in stride(from: 1, through: ManyTenantsTests.count, by: 10) {
                    try Data("new \(n)\n".utf8).write(to: URL(fileURLWithPath: "\(home.data)/t\(n)/new.txt"))
                }
            }
            let run = home.lethe("backup", "--all", "--json")
            #expect(run.status == 0, "round \(round): \(run.stderr.prefix(2000))")
            let summary = try #require(try run.json() as? [String: Any], "round \(round)")
            let results = try #require(summary["tenants"] as? [[String: Any]], "round \(round)")
            #expect(summary["failed"] as? Int == 0)
            #expect(results.count == ManyTenantsTests.count)
            let failed = results.filter { $0["status"] as? String != "succeeded" }
            #expect(failed.isEmpty, "round \(round): \(failed.prefix(3))")
        }
        let audit = home.lethe("audit", "verify")
        #expect(audit.status == 0, "\(audit.output)")
    }

    /// A night with nothing to back up logs its outcomes (every tenant verified) in one
    /// append: the second checkpoint written would stop the run (exit 86), and it is not
    /// reached. Forty tenants fill all sixteen shards, which once took an append each.
    @Test func aQuietNightPublishesOneCheckpoint() throws {
        let home = try E2EHome()
        var lines = ""
        for n in 1...40 {
            try home.write("\(home.data)/q\(n)/a.txt", "tenant \(n)\n")
            lines += #"{"id":"q\#(n)","sources":["dir:\#(home.data)/q\#(n)"]}"# + "\n"
        }
        try home.write("\(home.root)/quiet.jsonl", lines)
        #expect(home.lethe("tenant", "import", "\(home.root)/quiet.jsonl").status == 0)
        #expect(home.lethe("nightly").status == 0)
        // The same night again, as a second worker finds it once the done-markers are gone:
        // every backup is recent, so only verification and retention run.
        try FileManager.default.removeItem(atPath: "\(home.store)/leases/nightly")
        let quiet = home.lethe(["nightly", "--json"], environment: ["LETHE_CRASH_AT": "audit.checkpoint-written#2"])
        #expect(quiet.status == 0, "\(quiet.output.prefix(2000))")
        let summary = try #require(try quiet.json() as? [String: Any])
        #expect((summary["skipped"] as? [Any])?.count == 40 && (summary["verification"] as? [Any])?.count == 40)
        #expect(home.lethe("audit", "verify").status == 0)
    }

    @Test func anImportWithOneBadLineImportsNothing() throws {
        let home = try E2EHome()
        try FileManager.default.createDirectory(atPath: "\(home.data)/a", withIntermediateDirectories: true)
        let file = "\(home.root)/tenants.jsonl"
        try Data("""
            {"id":"a1","sources":["dir:\(home.data)/a"]}

            {"id":"a2","sources":["dir:\(home.data)/missing"]}
            {"id":"a3","sources":["dir:\(home.data)/a"],"colour":"blue"}
            """.utf8).write(to: URL(fileURLWithPath: file))
        let run = home.lethe("tenant", "import", file)
        #expect(run.status == 2, "\(run.output)")
        #expect(run.stderr.contains("line 4: unknown field \"colour\"") && run.stderr.contains("nothing imported"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "one line: \(run.stderr)")
        try Data("""
            {"id":"a1","sources":["dir:\(home.data)/a"]}
            {"id":"a2","sources":["dir:\(home.data)/missing"]}
            """.utf8).write(to: URL(fileURLWithPath: file))
        let second = home.lethe("tenant", "import", file)
        #expect(second.status == 2 && second.stderr.contains("line 2: source dir:\(home.data)/missing"), "\(second.stderr)")
        #expect((try home.lethe("tenant", "list", "--json").json() as? [Any])?.isEmpty == true, "no tenant was registered")
        #expect(home.objects("tenants").isEmpty)
    }
}
