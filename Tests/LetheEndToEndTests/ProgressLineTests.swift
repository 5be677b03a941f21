import Foundation
import Testing

/// The progress line is drawn on a terminal only: `script` gives the binary a pseudo-terminal
/// (util-linux, in every Debian), and what it drew comes back in the typescript on stdout.
@Suite struct ProgressLineTests {
    /// Runs `lethe ARGS` under a pseudo-terminal; stdout holds everything it wrote to it.
    func onATerminal(_ home: E2EHome, _ arguments: [String]) -> E2ERun {
        let command = ([E2EHome.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return E2EHome.shell(
            "script -qec \"\(command)\" /dev/null", directory: home.root,
            environment: ["LETHE_HOME": home.home, "LETHE_ACTOR": "e2e-tester", "TERM": "xterm"])
    }

    /// The progress lines drawn, as the terminal received them (each starts by clearing the line).
    func lines(_ run: E2ERun) -> [String] {
        run.stdout.components(separatedBy: "\r\u{1B}[2K").dropFirst().map { $0.components(separatedBy: "\r")[0] }.filter { !$0.isEmpty }
    }

    @Test func backupAndRestoreDrawTheirLineOnATerminalOnly() throws {
        let home = try E2EHome()
        try home.addTenant("acme", bigFile: 8 << 20)

        let backup = onATerminal(home, ["backup", "acme"])
        #expect(backup.status == 0, "\(backup.output)")
        let drawn = lines(backup).filter { $0.hasPrefix("backup: ") }
        #expect(!drawn.isEmpty, "no progress line on a terminal: \(backup.stdout.debugDescription)")
        for line in drawn {
            #expect(line.range(of: #"^backup: [0-9.]+ (B|KiB|MiB|GiB)( of [0-9.]+ (B|KiB|MiB|GiB) \(\d+%\))?, [0-9,]+( of [0-9,]+)? files?"#,
                               options: .regularExpression) != nil, "\(line)")
            #expect(line.hasSuffix("— acme"), "\(line)")
        }
        // The line is cleared before the summary, which stays on its own line.
        #expect(backup.stdout.contains("acme  ok  snapshot"))

        let restore = onATerminal(home, ["restore", "acme", "latest", "--target", "\(home.root)/restored"])
        #expect(restore.status == 0, "\(restore.output)")
        let restoring = lines(restore).filter { $0.hasPrefix("restore: ") }
        #expect(!restoring.isEmpty, "no progress line on a terminal: \(restore.stdout.debugDescription)")
        // A restore knows its totals before the first byte: every line has them.
        for line in restoring {
            #expect(line.range(of: #"^restore: [0-9.]+ (B|KiB|MiB|GiB) of [0-9.]+ (B|KiB|MiB|GiB) \(\d+%\), [0-9,]+ of [0-9,]+ files"#,
                               options: .regularExpression) != nil, "\(line)")
        }

        // Not a terminal: nothing but the summary. --json on a terminal: nothing but the JSON.
        let plain = home.lethe("backup", "acme")
        #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain.stderr.debugDescription)")
        let json = onATerminal(home, ["restore", "acme", "latest", "--target", "\(home.root)/again", "--json"])
        #expect(json.status == 0, "\(json.output)")
        #expect(!json.stdout.contains("\u{1B}[2K"), "\(json.stdout.debugDescription)")
    }

    @Test func verifyReadDataCountsPacksOnATerminal() throws {
        let home = try E2EHome()
        try home.addTenant("acme", bigFile: 1 << 20)
        #expect(home.lethe("backup", "acme").status == 0)
        let verify = onATerminal(home, ["verify", "acme", "--read-data"])
        #expect(verify.status == 0, "\(verify.output)")
        let drawn = lines(verify).filter { $0.hasPrefix("verify: ") }
        #expect(!drawn.isEmpty, "no progress line on a terminal: \(verify.stdout.debugDescription)")
        for line in drawn {
            #expect(line.range(of: #"^verify: [0-9.]+ (B|KiB|MiB|GiB) of [0-9.]+ (B|KiB|MiB|GiB) \(\d+%\), [0-9,]+ of [0-9,]+ packs? — acme"#,
                               options: .regularExpression) != nil, "\(line)")
        }
    }
}
