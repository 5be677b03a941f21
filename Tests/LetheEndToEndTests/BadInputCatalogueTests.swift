import Foundation
import Glibc
import Testing

/// The bad-input catalogue: malformed arguments, files and environments, wrong keys, unknown
/// names, damaged objects, refused permissions, run against the real binary as a hostile or
/// careless user would. For every case: the documented exit code, one line on stderr that names
/// the thing, no trap, and the committed data intact afterwards (once whatever the case damaged
/// is put back). Full disks, crashes and tampering have their own suites (FullDiskTests,
/// CrashSafetyTests, the tamper matrix).
@Suite struct BadInputCatalogueTests {
    /// One case: what to do to a home with tenant acme backed up once, what to run, what must
    /// come back. `repair` undoes the damage before the intactness check.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var damage: @Sendable (E2EHome) throws -> Void = { _ in }
        let arguments: @Sendable (E2EHome) -> [String]
        var environment: [String: String] = [:]
        let status: Int32
        /// Fragments stderr's line must contain: the thing it names, and what is wrong.
        let names: [String]
        var repair: @Sendable (E2EHome) throws -> Void = { _ in }
        /// The output is a usage text (several lines, on stderr), not a one-line error.
        var usage = false

        var testDescription: String { name }
    }

    static func saved(_ home: E2EHome, _ path: String) -> String { "\(home.root)/saved-\((path as NSString).lastPathComponent)" }

    static func file(_ home: E2EHome, under prefix: String) -> String {
        let found = home.objects(prefix).first ?? "\(prefix)/none"
        return "\(home.store)/\(found)"
    }

    static let cases: [Case] = [
        // Arguments.
        Case(name: "unknown verb", arguments: { _ in ["frobnicate"] }, status: 2, names: ["unknown command", "frobnicate"]),
        Case(name: "unknown option", arguments: { _ in ["verify", "--fast"] }, status: 2, names: ["unknown option --fast"]),
        Case(name: "extra argument", arguments: { _ in ["verify", "acme", "extra"] }, status: 2, names: ["unexpected argument extra"]),
        Case(name: "group without a verb", arguments: { _ in ["tenant"] }, status: 2, names: ["Usage: lethe tenant"], usage: true),
        Case(name: "option without its value", arguments: { _ in ["restore", "acme", "latest", "--target"] }, status: 2, names: ["--target"]),
        Case(name: "not a number", arguments: { _ in ["audit", "consistency", "one", "two"] }, status: 2, names: ["OLD and NEW"]),
        Case(name: "sizes out of order", arguments: { _ in ["audit", "consistency", "5", "2"] }, status: 2, names: ["1 ≤ OLD ≤ NEW"]),
        Case(name: "unknown setting", arguments: { _ in ["config", "set", "nosuch", "1"] }, status: 2, names: ["unknown setting nosuch"]),
        Case(name: "setting of the wrong type", arguments: { _ in ["config", "set", "leaseSeconds", "abc"] }, status: 2, names: ["\"abc\" is not a whole number"]),
        // Unknown names.
        Case(name: "unknown tenant (backup)", arguments: { _ in ["backup", "nosuch"] }, status: 2, names: ["unknown tenant nosuch"]),
        Case(name: "unknown tenant (snapshots)", arguments: { _ in ["snapshots", "nosuch"] }, status: 2, names: ["unknown tenant nosuch"]),
        Case(name: "unknown tenant (audit log)", arguments: { _ in ["audit", "log", "--tenant", "nosuch"] }, status: 2, names: ["unknown tenant nosuch"]),
        Case(name: "invalid tenant id", arguments: { home in ["tenant", "add", "Bad!", "--source", "dir:\(home.data)"] }, status: 2, names: ["invalid tenant id \"Bad!\""]),
        Case(name: "unknown snapshot", arguments: { home in ["restore", "acme", "deadbeef", "--target", "\(home.root)/r"] }, status: 2, names: ["no snapshot deadbeef"]),
        Case(name: "unknown report", arguments: { _ in ["report", "show", "nosuch"] }, status: 2, names: ["unknown report nosuch"]),
        Case(name: "unknown destruction request", arguments: { _ in ["destroy", "show", "dr-20260101-00000000"] }, status: 2, names: ["dr-20260101-00000000"]),
        Case(name: "not a Lethe home", arguments: { home in ["--home", "\(home.root)/nowhere", "tenant", "list"] }, status: 2, names: ["is not a Lethe home", "nowhere"]),
        // Sources that can never work.
        Case(name: "dir: source that is a file", arguments: { _ in ["tenant", "add", "x", "--source", "dir:/etc/passwd"] }, status: 2, names: ["/etc/passwd is not a directory"]),
        Case(name: "missing source", arguments: { home in ["tenant", "add", "x", "--source", "dir:\(home.root)/missing"] }, status: 2, names: ["\(home_placeholder)/missing"]),
        Case(name: "sqlite: source that is not a database", arguments: { _ in ["tenant", "add", "x", "--source", "sqlite:/etc/passwd"] }, status: 2, names: ["not a SQLite database"]),
        Case(name: "cmd: source that is not a program", arguments: { _ in ["tenant", "add", "x", "--source", "cmd:/etc/passwd"] }, status: 2, names: ["not an executable program"]),
        // Malformed files given by the user.
        Case(name: "import file missing", arguments: { home in ["tenant", "import", "\(home.root)/none.jsonl"] }, status: 2, names: ["none.jsonl"]),
        Case(name: "import file not JSON Lines", damage: { home in try home.write("\(home.root)/g.jsonl", "garbage\n") },
             arguments: { home in ["tenant", "import", "\(home.root)/g.jsonl"] }, status: 2, names: ["g.jsonl", "line 1: not a JSON object", "nothing imported"]),
        Case(name: "report to verify is not a report",
             damage: { home in
                 try home.write("\(home.root)/r.json", "{}")
                 try home.write("\(home.root)/a.txt", "SHA256:" + String(repeating: "0", count: 64) + "\n")
             },
             arguments: { home in ["report", "verify", "--report", "\(home.root)/r.json", "--signature", "\(home.root)/r.json",
                                   "--public-key", "\(home.keys)/signing-key.pub.pem", "--authorizers", "\(home.root)/a.txt"] },
             status: 3, names: ["r.json"]),
        Case(name: "authorizers file lists no fingerprint", damage: { home in try home.write("\(home.root)/r.json", "{}") },
             arguments: { home in ["report", "verify", "--report", "\(home.root)/r.json", "--signature", "\(home.root)/r.json",
                                   "--public-key", "\(home.keys)/signing-key.pub.pem", "--authorizers", "\(home.root)/r.json"] },
             status: 2, names: ["r.json lists no authorizer fingerprint"]),
        Case(name: "restore target is a file", arguments: { _ in ["restore", "acme", "latest", "--target", "/etc/passwd"] }, status: 2, names: ["/etc/passwd is not a directory"]),
        Case(name: "export into a missing folder", arguments: { home in ["export", "acme", "latest", "--output", "\(home.root)/no/dir/x.tar"] }, status: 2, names: ["/no/dir"]),
        // The environment.
        Case(name: "malformed LETHE_NOW", arguments: { _ in ["tenant", "list"] }, environment: ["LETHE_NOW": "yesterday"], status: 2, names: ["LETHE_NOW=yesterday"]),
        Case(name: "out-of-range LETHE_NOW", arguments: { _ in ["tenant", "list"] }, environment: ["LETHE_NOW": "2026-13-45T99:00:00Z"], status: 2, names: ["LETHE_NOW=2026-13-45T99:00:00Z"]),
        // Damaged files of the home and the key directory.
        Case(name: "garbage catalog", damage: { home in try home.write("\(home.home)/catalog.sqlite", "garbage") },
             arguments: { _ in ["tenant", "list"] }, status: 3, names: ["catalog.sqlite", "lethe index rebuild"],
             repair: { home in
                 for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: "\(home.home)/catalog.sqlite\(suffix)") }
             }),
        Case(name: "garbage lethe.json", damage: { home in
                 try FileManager.default.copyItem(atPath: "\(home.home)/lethe.json", toPath: saved(home, "lethe.json"))
                 try home.write("\(home.home)/lethe.json", "{")
             },
             arguments: { _ in ["tenant", "list"] }, status: 2, names: ["lethe.json"],
             repair: { home in try restore(home, "\(home.home)/lethe.json") }),
        Case(name: "keystore readable by others", damage: { home in chmod("\(home.keys)/keystore.json", 0o644) },
             arguments: { _ in ["backup", "acme"] }, status: 2, names: ["keystore.json", "644"],
             repair: { home in chmod("\(home.keys)/keystore.json", 0o600) }),
        Case(name: "keystore put back from before the last ratchet", damage: { home in
                 try FileManager.default.copyItem(atPath: "\(home.keys)/keystore.json", toPath: saved(home, "keystore.json"))
                 guard home.lethe("keys", "rotate").status == 0 else { throw E2EError("keys rotate failed") }
                 try FileManager.default.copyItem(atPath: "\(home.keys)/keystore.json", toPath: "\(home.root)/current-keystore.json")
                 try restore(home, "\(home.keys)/keystore.json")
             },
             arguments: { _ in ["backup", "acme"] }, status: 3, names: ["keystore.json", "older than the installation's last ratchet"],
             repair: { home in
                 try FileManager.default.removeItem(atPath: "\(home.keys)/keystore.json")
                 try FileManager.default.copyItem(atPath: "\(home.root)/current-keystore.json", toPath: "\(home.keys)/keystore.json")
             }),
        Case(name: "keystore older than a tenant", damage: { home in
                 try FileManager.default.copyItem(atPath: "\(home.keys)/keystore.json", toPath: saved(home, "keystore.json"))
                 _ = try home.addTenant("beta")
                 try FileManager.default.copyItem(atPath: "\(home.keys)/keystore.json", toPath: "\(home.root)/current-keystore.json")
                 try restore(home, "\(home.keys)/keystore.json")
             },
             arguments: { _ in ["backup", "beta"] }, status: 3, names: ["beta", "keystore", "holds no key"],
             repair: { home in
                 try FileManager.default.removeItem(atPath: "\(home.keys)/keystore.json")
                 try FileManager.default.copyItem(atPath: "\(home.root)/current-keystore.json", toPath: "\(home.keys)/keystore.json")
             }),
        Case(name: "signing key missing", damage: { home in
                 try FileManager.default.moveItem(atPath: "\(home.keys)/signing-key.pem", toPath: saved(home, "signing-key.pem"))
             },
             arguments: { _ in ["backup", "acme"] }, status: 2, names: ["signing-key.pem", "missing"],
             repair: { home in try restore(home, "\(home.keys)/signing-key.pem") }),
        // Damaged objects in the store.
        Case(name: "pack cut short", damage: { home in
                 let pack = file(home, under: "tenants/acme/data")
                 try FileManager.default.copyItem(atPath: pack, toPath: saved(home, pack))
                 truncate(pack, 10)
             },
             arguments: { _ in ["verify", "acme"] }, status: 3, names: ["acme", "tenants/acme/data/", "truncated"],
             repair: { home in try restore(home, file(home, under: "tenants/acme/data")) }),
        Case(name: "snapshot cut short (restore)", damage: { home in
                 let snapshot = file(home, under: "tenants/acme/snapshots")
                 try FileManager.default.copyItem(atPath: snapshot, toPath: saved(home, snapshot))
                 truncate(snapshot, 20)
             },
             arguments: { home in ["restore", "acme", "latest", "--target", "\(home.root)/r"] }, status: 3,
             names: ["tenants/acme/snapshots/", "truncated"],
             repair: { home in try restore(home, file(home, under: "tenants/acme/snapshots")) }),
        Case(name: "index object missing", damage: { home in
                 let index = file(home, under: "tenants/acme/index")
                 try FileManager.default.moveItem(atPath: index, toPath: "\(home.root)/saved-index-\((index as NSString).lastPathComponent)")
             },
             arguments: { _ in ["verify", "acme"] }, status: 3, names: ["acme", "in no index"],
             repair: { home in
                 let saved = try FileManager.default.contentsOfDirectory(atPath: home.root).first { $0.hasPrefix("saved-index-") }!
                 try FileManager.default.moveItem(
                     atPath: "\(home.root)/\(saved)", toPath: "\(home.store)/tenants/acme/index/\(saved.dropFirst("saved-index-".count))")
             }),
        Case(name: "source vanished before the backup", damage: { home in
                 try FileManager.default.moveItem(atPath: "\(home.data)/acme", toPath: "\(home.root)/acme-away")
             },
             arguments: { _ in ["backup", "acme"] }, status: 1, names: ["acme"],
             repair: { home in try FileManager.default.moveItem(atPath: "\(home.root)/acme-away", toPath: "\(home.data)/acme") }),
    ]

    /// Stands for the test's own temporary root in `names` (filled in per home).
    static let home_placeholder = "@ROOT@"

    static func restore(_ home: E2EHome, _ path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: saved(home, path), toPath: path)
    }

    static func truncate(_ path: String, _ size: Int) {
        _ = Glibc.truncate(path, off_t(size))
    }

    @Test(arguments: cases)
    func badInputGetsItsExitCodeAndOneLineNamingTheThing(_ item: Case) throws {
        let home = try E2EHome()
        _ = try home.addTenant("acme")
        try #require(home.lethe("backup", "acme").status == 0)
        let snapshots = home.objects("tenants/acme/snapshots")
        try item.damage(home)

        let run = home.lethe(item.arguments(home), environment: item.environment)
        #expect(run.status == item.status, "\(item.name): exit \(run.status), expected \(item.status): \(run.output)")
        #expect(run.status < 128 && !["Fatal error", "Program crashed", "Backtrac", "Illegal instruction", "Segmentation"].contains { run.stderr.contains($0) },
                "\(item.name) trapped: \(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        if item.usage {
            #expect(lines.first?.hasPrefix("Usage:") == true, "\(item.name): \(run.stderr)")
        } else {
            #expect(lines.count == 1 && lines[0].hasPrefix("lethe: "), "\(item.name): one line on stderr, got: \(run.stderr)")
        }
        for fragment in item.names {
            let wanted = fragment.replacingOccurrences(of: BadInputCatalogueTests.home_placeholder, with: home.root)
            #expect(run.stderr.contains(wanted), "\(item.name): stderr does not name \"\(wanted)\": \(run.stderr)")
        }

        // Committed data intact: once the damage is undone, the repository verifies, its
        // snapshot is still there, and it restores.
        try item.repair(home)
        let verify = home.lethe("verify", "acme", "--read-data")
        #expect(verify.status == 0, "\(item.name): after repair: \(verify.output)")
        #expect(home.objects("tenants/acme/snapshots") == snapshots, "\(item.name): the snapshots changed")
        let restored = "\(home.root)/restored"
        #expect(home.lethe("restore", "acme", "latest", "--target", restored).status == 0, "\(item.name): restore after repair")
    }
}
