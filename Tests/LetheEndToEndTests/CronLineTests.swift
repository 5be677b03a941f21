import Foundation
import Testing

/// Scripts/lethe.cron as cron runs it: its variables, then its command under /bin/sh with
/// nothing else in the environment. cron mails whatever the command prints, so a run that
/// succeeds must print nothing and one that fails must print why.
@Suite struct CronLineTests {
    struct CronFile {
        var variables: [String: String] = [:]
        var user = ""
        var command = ""

        init(path: String) throws {
            for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
                if line.hasPrefix("#") || line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                let words = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: true)
                if words.count == 7, words[0].first?.isNumber == true || words[0] == "*" {
                    user = String(words[5])
                    command = String(words[6])
                } else if let equals = line.firstIndex(of: "="), !line[..<equals].contains(" ") {
                    variables[String(line[..<equals])] = String(line[line.index(after: equals)...])
                }
            }
        }
    }

    /// Runs the cron line against `home`: the shipped paths of the binary and the home replaced
    /// by the ones under test.
    func runCronLine(_ home: E2EHome) throws -> E2ERun {
        let cron = try CronFile(path: "\(E2EHome.repository)/Scripts/lethe.cron")
        func local(_ text: String) -> String {
            text.replacingOccurrences(of: "/usr/local/bin/lethe", with: E2EHome.binary).replacingOccurrences(of: "/var/lib/lethe", with: home.home)
        }
        var environment = ["HOME": home.home, "LOGNAME": cron.user, "SHELL": "/bin/sh"]
        for (name, value) in cron.variables { environment[name] = local(value) }
        environment["LETHE_NOW"] = "2026-03-01T02:00:00Z"
        #expect(!cron.command.contains("%"), "cron reads % as a newline")
        return E2EHome.run("/usr/bin/env", ["-i"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            + ["/bin/sh", "-c", local(cron.command)], directory: home.home)
    }

    @Test func theCronFileMailsSomeoneAndRunsAsTheServiceUser() throws {
        let cron = try CronFile(path: "\(E2EHome.repository)/Scripts/lethe.cron")
        #expect(cron.variables["MAILTO"]?.isEmpty == false)
        #expect(cron.variables["LETHE_HOME"] == "/var/lib/lethe")
        #expect(cron.user == "lethe" && cron.command.contains("nightly --wait"))
    }

    @Test func aSuccessfulRunPrintsNothingAndKeepsItsLog() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        let run = try runCronLine(home)
        #expect(run.status == 0 && run.output.isEmpty, "nothing for cron to mail: \(run.output)")
        let log = try String(contentsOfFile: "\(home.home)/nightly.log", encoding: .utf8)
        #expect(log.contains("Nightly run") && log.contains("acme"), "\(log)")
    }

    @Test func aFailedRunPrintsItsStatusAndOutput() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        try FileManager.default.removeItem(atPath: source)
        let run = try runCronLine(home)
        #expect(run.stdout.contains("lethe nightly failed with exit status 1"), "\(run.output)")
        #expect(run.stdout.contains("acme") && run.stdout.contains("FAILED"), "the run's own output follows: \(run.output)")
    }
}
