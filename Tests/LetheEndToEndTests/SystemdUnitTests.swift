import Foundation
import Glibc
import Testing

/// The shipped systemd unit and timer (Scripts/systemd): systemd accepts them, and `lethe
/// nightly` runs as the unit says — backups and an approved destruction — under the unit's
/// own file-system view. systemd is not PID 1 on the test machines, so the view is made with a
/// mount namespace from the unit file's own `ProtectSystem=`, `ReadWritePaths=` and
/// `ReadOnlyPaths=`: a path the unit forgets is read-only here as it would be there.
@Suite struct SystemdUnitTests {
    static let unitFolder = "\(E2EHome.repository)/Scripts/systemd"
    static let unitPath = "\(unitFolder)/lethe-nightly.service"
    /// The uid and gid the run takes as the unit's `lethe` user: nobody's, which every Debian
    /// host has, so that the test creates no user.
    static let serviceUser: UInt32 = 65534

    func at(_ days: Double) -> [String: String] {
        let start = ISO8601DateFormatter().date(from: "2026-03-01T02:00:00Z")!
        return ["LETHE_NOW": ISO8601DateFormatter().string(from: start.addingTimeInterval(days * 86_400))]
    }

    /// `systemd-analyze verify` on the unit and timer exactly as shipped, in a root that holds
    /// them where operations.md installs them, the host's system units, and the binary at the
    /// unit's ExecStart path. systemd reports unknown keys and bad values as warnings with exit
    /// status 0, so any output fails the test too.
    @Test func unitAndTimerPassSystemdAnalyzeVerify() throws {
        let home = try E2EHome(initialize: false)
        let root = "\(home.root)/root"
        let fm = FileManager.default
        let program = try #require(SystemdUnitFile(path: Self.unitPath).execStart.first)
        try fm.createDirectory(atPath: "\(root)/etc/systemd/system", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(root)/lib/systemd", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(root)\(FileSystemPath.parent(program))", withIntermediateDirectories: true)
        try fm.copyItem(atPath: "/lib/systemd/system", toPath: "\(root)/lib/systemd/system")
        try fm.copyItem(atPath: E2EHome.binary, toPath: "\(root)\(program)")
        for unit in ["lethe-nightly.service", "lethe-nightly.timer"] {
            try fm.copyItem(atPath: "\(Self.unitFolder)/\(unit)", toPath: "\(root)/etc/systemd/system/\(unit)")
        }
        let verify = E2EHome.run("/usr/bin/systemd-analyze", [
            "verify", "--root=\(root)", "/etc/systemd/system/lethe-nightly.service", "/etc/systemd/system/lethe-nightly.timer",
        ])
        #expect(verify.status == 0 && verify.output.isEmpty, "\(verify.output)")
        // The check has teeth: a misspelt key is reported.
        let unit = "\(root)/etc/systemd/system/lethe-nightly.service"
        try String(contentsOfFile: unit, encoding: .utf8).replacingOccurrences(of: "ReadOnlyPaths=", with: "ReadOnlyPath=")
            .write(toFile: unit, atomically: true, encoding: .utf8)
        let misspelt = E2EHome.run("/usr/bin/systemd-analyze", ["verify", "--root=\(root)", "/etc/systemd/system/lethe-nightly.service"])
        #expect(misspelt.output.contains("ReadOnlyPath"), "\(misspelt.output)")
    }

    /// The installation of docs/operations.md, placed under a test root: the home, the key
    /// directory, the metrics folder and the tenants' sources where the unit expects them, with
    /// a WAL-mode SQLite source beside each tenant's files. acme is offboarded with a 1-day
    /// window and its destruction approved by two authorizers; `nightly`, run as the unit's
    /// ExecStart says in the unit's view, must back up globex, read both databases from the
    /// read-only /srv leaving nothing beside them, execute the destruction, and write metrics.
    @Test func nightlyRunsAnApprovedDestructionUnderTheUnitsFileSystemView() throws {
        let unit = try SystemdUnitFile(path: Self.unitPath)
        let fixture = try E2EHome(initialize: false)
        let root = "\(fixture.root)/root"
        let unitEnvironment = unit.environment
        let lethHome = root + (try #require(unitEnvironment["LETHE_HOME"], "the unit sets LETHE_HOME"))
        let keys = "\(root)/etc/lethe-keys"
        let metrics = "\(root)/var/lib/node_exporter/textfile_collector/lethe.prom"
        let env = ["LETHE_HOME": lethHome]
        // As docs/operations.md makes them: the home and keys 0700, the rest as a system has them.
        for (folder, mode) in [(lethHome, 0o700), (keys, 0o700), (FileSystemPath.parent(metrics), 0o755), ("\(root)/srv", 0o755)] {
            try FileManager.default.createDirectory(atPath: FileSystemPath.parent(folder), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: mode])
        }
        #expect(fixture.lethe(["init", "--keys", keys], environment: env).status == 0)
        #expect(fixture.lethe(["config", "set", "metricsFile", metrics], environment: env).status == 0)
        for tenant in ["acme", "globex"] {
            let folder = "\(root)/srv/\(tenant)"
            try SampleTree.make(at: "\(folder)/files", seed: tenant == "acme" ? 1 : 2)
            let made = E2EHome.shell("""
                sqlite3 app.sqlite 'PRAGMA journal_mode=WAL; CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT); \
                INSERT INTO orders(item) VALUES ("\(tenant)-1"), ("\(tenant)-2");' > /dev/null
                """, directory: folder)
            try #require(made.status == 0, "sqlite3 is needed: \(made.output)")
            let add = fixture.lethe(["tenant", "add", tenant, "--source", "dir:\(folder)/files", "--source", "app.sqlite=sqlite:\(folder)/app.sqlite"],
                                    environment: env)
            #expect(add.status == 0, "\(add.output)")
        }
        let first = fixture.lethe(["backup", "--all"], environment: env.merging(at(0)) { $1 })
        #expect(first.status == 0, "\(first.output)")
        #expect(fixture.lethe(["tenant", "offboard", "acme", "--window-days", "1"], environment: env.merging(at(0)) { $1 }).status == 0)
        try fixture.registerAuthorizers([("dana", "dpo"), ("carl", "officer")], environment: env)
        let request = fixture.lethe(["destroy", "request", "acme", "--reason", "retention-expired", "--json"], environment: env.merging(at(2)) { $1 })
        let id = try #require((try request.json() as? [String: Any])?["id"] as? String, "\(request.output)")
        for who in ["dana", "carl"] {
            let approve = fixture.lethe(["destroy", "approve", id, "--key", "\(fixture.root)/\(who).pem"], environment: env.merging(at(2)) { $1 })
            #expect(approve.status == 0, "\(approve.output)")
        }

        // The run, as the unit starts it: its environment (paths under the test root), its
        // ExecStart with the binary under test, and --json to read the summary.
        var environment = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": lethHome, "USER": "lethe"]
        for (key, value) in unitEnvironment { environment[key] = value.hasPrefix("/") ? root + value : value }
        environment.merge(at(3.5)) { $1 }
        let command = unit.execStart
        try #require(command.first?.hasSuffix("/lethe") == true, "ExecStart runs lethe: \(command)")
        // The metrics folder is optional, and then the command line cannot depend on it.
        #expect(unit.binds.contains { $0.path.contains("node_exporter") && $0.optional && $0.writable })
        for optional in unit.binds where optional.optional {
            #expect(!command.contains { $0.hasPrefix(optional.path) }, "ExecStart needs \(optional.path), which may be absent")
        }
        let arguments = command.dropFirst().map { $0.hasPrefix("/") ? root + $0 : $0 } + ["--json"]
        // ProtectSystem=strict: the test root stands for the unit's "/", read-only but for the
        // unit's paths (and the host's own file systems are made read-only too).
        let strict = unit.values("ProtectSystem").last == "strict"
        #expect(strict, "the unit keeps the system read-only")
        let view = MountNamespace(binds: [MountNamespace.Bind(path: root, writable: !strict)]
            + unit.binds.map { MountNamespace.Bind(path: root + $0.path, writable: $0.writable, optional: $0.optional) },
                                  protectSystem: strict, user: (Self.serviceUser, Self.serviceUser))
        // User=lethe: an unprivileged user owns the home, the keys and the metrics folder, as
        // docs/operations.md makes them, and reads the sources; root takes them back after.
        #expect(unit.values("User") == ["lethe"] && unit.values("Group") == ["lethe"])
        let owned = [lethHome, keys, FileSystemPath.parent(metrics), "\(root)/srv"]
        #expect(E2EHome.run("/bin/chown", ["-R", "\(Self.serviceUser):\(Self.serviceUser)"] + owned).status == 0)
        let run = view.run(E2EHome.binary, arguments, environment: environment)
        #expect(E2EHome.run("/bin/chown", ["-R", "0:0"] + owned).status == 0)
        #expect(run.status == 0, "\(run.output)")
        let summary = try #require(try run.json() as? [String: Any], "\(run.output)")
        #expect((summary["destructionsExecuted"] as? [[String: Any]])?.map { $0["tenant"] as? String } == ["acme"], "\(run.output)")
        #expect((summary["backups"] as? [[String: Any]])?.map { $0["tenant"] as? String } == ["globex"], "\(run.output)")
        #expect((summary["failures"] as? [Any])?.isEmpty == true, "\(run.output)")

        // What the run did, seen from outside.
        #expect(fixture.lethe(["report", "verify", "rpt-" + id.dropFirst(3)], environment: env).status == 0)
        #expect(fixture.lethe(["audit", "verify"], environment: env).status == 0)
        let metricsText = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
        #expect(metricsText.contains("lethe_backup_success{tenant=\"globex\"} 1"), "\(metricsText)")
        for tenant in ["acme", "globex"] {
            let left = (try FileManager.default.contentsOfDirectory(atPath: "\(root)/srv/\(tenant)")).sorted()
            #expect(left == ["app.sqlite", "files"], "nothing left beside the source database: \(left)")
        }
        let restored = "\(fixture.root)/restored"
        #expect(fixture.lethe(["restore", "globex", "--target", restored], environment: env.merging(at(3.6)) { $1 }).status == 0)
        let rows = E2EHome.run("/usr/bin/sqlite3", ["\(restored)/app.sqlite", "SELECT group_concat(item) FROM orders"])
        #expect(rows.stdout == "globex-1,globex-2\n", "\(rows.output)")
    }

    /// Without the key directory among the writable paths, the destruction cannot ratchet the
    /// keys, and the run says so: the check above is one the unit can fail.
    @Test func theViewEnforcesTheUnitsPaths() throws {
        let fixture = try E2EHome()
        let view = MountNamespace(binds: [MountNamespace.Bind(path: fixture.keys, writable: false)], protectSystem: true)
        let write = view.run("/usr/bin/touch", ["\(fixture.keys)/probe"], environment: [:])
        #expect(write.status != 0 && write.stderr.contains("Read-only file system"), "\(write.output)")
        let outside = view.run("/usr/bin/touch", ["\(E2EHome.repository)/probe-\(UUID().uuidString)"], environment: [:])
        #expect(outside.status != 0 && outside.stderr.contains("Read-only file system"), "ProtectSystem=strict: \(outside.output)")
        let missing = MountNamespace(binds: [MountNamespace.Bind(path: "\(fixture.root)/absent", writable: true)]).run("/bin/true", [], environment: [:])
        #expect(missing.status == MountNamespace.missingPathStatus && missing.stderr.contains("absent"))
        let optional = MountNamespace(binds: [MountNamespace.Bind(path: "\(fixture.root)/absent", writable: true, optional: true)])
        #expect(optional.run("/bin/true", [], environment: [:]).status == 0)
    }
}

/// Path helpers for tests that place absolute paths of a unit under a test root.
enum FileSystemPath {
    static func parent(_ path: String) -> String { URL(fileURLWithPath: path).deletingLastPathComponent().path }
}
