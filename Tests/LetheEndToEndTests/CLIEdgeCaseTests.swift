import Foundation
import Glibc
import Testing

/// What a failure of `lethe` looks like to an operator: one line on standard error, the
/// documented exit code, never a crash report.
@Suite struct CLIErrorTests {
    /// Text a Swift runtime trap, a fatalError or a backtrace would leave on standard error.
    static let crashMarkers = ["Fatal error", "Stack dump", "Backtrace", "stack trace", "Illegal instruction", "Segmentation fault", "💣"]

    static func expectNoCrashReport(_ run: E2ERun, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for marker in crashMarkers {
            #expect(!run.output.contains(marker), "\(label): \(run.output)", sourceLocation: sourceLocation)
        }
    }

    @Test func helpAndVersionSucceedWithNothingOnStandardError() throws {
        let home = try E2EHome()
        for arguments in [["--help"], ["backup", "--help"], ["restore", "-h"], ["keys", "status", "--help"], ["--version"]] {
            let run = home.lethe(arguments)
            #expect(run.status == 0, "\(arguments): \(run.output)")
            #expect(run.stderr.isEmpty, "\(arguments): \(run.stderr)")
            #expect(!run.stdout.isEmpty, "\(arguments)")
        }
        #expect(home.lethe("backup", "--help").stdout.contains("Usage: lethe backup"))
        #expect(home.lethe("--version").stdout == "lethe 0.1.0\n")
    }

    /// `lethe --bogus` is as much a usage error as `lethe snapshots --bogus`: it must name the
    /// option on standard error in one line, not print the whole verb listing instead.
    @Test func unknownOptionBeforeAnyVerbIsAOneLineUsageError() throws {
        let home = try E2EHome()
        let run = home.lethe("--bogus")
        #expect(run.status == 2)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr was: \(run.stderr.debugDescription)")
        #expect(lines.first?.hasPrefix("lethe: ") == true && lines.first?.contains("--bogus") == true)
        Self.expectNoCrashReport(run, "--bogus")
    }

    /// Every kind of mistake a person makes on the command line gets exit code 2 and exactly one
    /// line on standard error that starts with `lethe: `.
    @Test func everyUsageErrorIsOneLineOnStandardErrorWithExitCodeTwo() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        let target = "\(home.root)/target"
        let aFile = "\(home.root)/a-file"
        try home.write(aFile, "not a directory\n")
        let cases: [[String]] = [
            ["frobnicate"],
            ["tenant", "frobnicate"],
            ["snapshots", "--bogus"],
            ["backup", "--bogus", "acme"],
            ["backup"],
            ["backup", "--all", "acme"],
            ["restore", "acme"],
            ["restore", "acme", "--target"],
            ["restore", "ghost", "--target", target],
            ["restore", "acme", "ffff", "--target", target],
            ["restore", "acme", "--target", "\(home.root)/path-target", "--path", "no/such/file"],
            ["restore", "acme", "--target", aFile],
            ["ls", "latest"],
            ["ls", "latest", "--tenant", "UPPER"],
            ["tenant", "add", "acme", "--source", "dir:\(source)"],
            ["tenant", "add", "other", "--source", "dir:\(home.root)/does-not-exist"],
            ["tenant", "add", "other", "--source", "weird"],
            ["tenant", "add", "other"],
            ["tenant", "add", "../evil", "--source", "dir:\(source)"],
            ["tenant", "show", "ghost"],
            ["verify", "ghost"],
            ["snapshots", "ghost"],
            ["init", "--keys", home.keys],
            ["keys", "rotate", "extra"],
            ["index", "rebuild", "extra"],
            ["snapshots", "--home", "\(home.root)/not-a-home"],
        ]
        for arguments in cases {
            let run = home.lethe(arguments)
            #expect(run.status == 2, "\(arguments): \(run.output)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("lethe: "), "\(arguments): stderr \(run.stderr.debugDescription)")
            Self.expectNoCrashReport(run, "\(arguments)")
        }
        #expect(!FileManager.default.fileExists(atPath: target), "no restore refused before reading created its target")
    }

    /// Failures that are not the caller's mistake (exit 1) and integrity violations (exit 3) never
    /// come with a crash report either.
    @Test func operationalFailuresCarryTheirCodeAndNoCrashReport() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        let unknown = home.lethe("backup", "ghost")
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown tenant ghost"), "an unknown tenant is a usage error, said on stderr")
        Self.expectNoCrashReport(unknown, "backup ghost")
        let pack = try #require(home.objects("tenants/acme/data").first)
        let path = "\(home.store)/\(pack)"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(truncate(path, off_t(size / 2)) == 0)
        let verify = home.lethe("verify", "acme")
        #expect(verify.status == 3 && verify.stdout.contains(pack))
        Self.expectNoCrashReport(verify, "verify")
        let restore = home.lethe("restore", "acme", "--target", "\(home.root)/r")
        #expect(restore.status == 3)
        #expect(restore.stderr.split(separator: "\n").count == 1 && restore.stderr.contains(pack), "\(restore.stderr)")
        Self.expectNoCrashReport(restore, "restore")
    }
}

/// No command prints key material, from the very first one on.
@Suite struct SecretOutputTests {
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Everything secret in the key directory, in the spellings a leak would take: KEK bytes in
    /// hex and base64, the private key's PEM body (line by line and whole), its raw 32-byte
    /// Ed25519 seed in hex and base64, and every wrapped DEK.
    static func secrets(in keys: String) throws -> [String] {
        var secrets: [String] = []
        let kekDirectory = "\(keys)/kek"
        for name in try FileManager.default.contentsOfDirectory(atPath: kekDirectory) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(kekDirectory)/\(name)"))
            #expect(bytes.count == 32, "\(name) holds a 256-bit KEK")
            secrets += [hex(bytes), hex(bytes).uppercased(), bytes.base64EncodedString()]
        }
        let pem = try String(contentsOfFile: "\(keys)/signing-key.pem", encoding: .utf8)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init)
        secrets += body
        let der = try #require(Data(base64Encoded: body.joined()))
        let seed = der.suffix(32)
        secrets += [hex(seed), Data(seed).base64EncodedString()]
        let keystoreData = try Data(contentsOf: URL(fileURLWithPath: "\(keys)/keystore.json"))
        let keystore = try #require(try JSONSerialization.jsonObject(with: keystoreData) as? [String: Any])
        let tenants = keystore["tenants"] as? [String: [String: Any]] ?? [:]
        secrets += tenants.values.compactMap { $0["wrapped"] as? String }
        return secrets
    }

    @Test func initTenantAddBackupAndKeysStatusPrintNoKeyMaterial() throws {
        let home = try E2EHome(initialize: false)
        var outputs: [String] = []
        func run(_ arguments: String...) {
            let result = home.lethe(arguments)
            #expect(result.status == 0, "\(arguments): \(result.output)")
            outputs.append(result.output)
        }
        run("init", "--keys", home.keys)
        try SampleTree.make(at: "\(home.data)/acme", seed: 1)
        try SampleTree.make(at: "\(home.data)/globex", seed: 2)
        run("tenant", "add", "acme", "--source", "dir:\(home.data)/acme")
        run("tenant", "add", "globex", "--source", "dir:\(home.data)/globex", "--json")
        run("backup", "acme")
        run("backup", "--all", "--json")
        run("keys", "status")
        run("keys", "status", "--json")
        run("tenant", "show", "acme")
        run("tenant", "show", "globex", "--json")
        let secrets = try Self.secrets(in: home.keys)
        #expect(secrets.count >= 8, "KEK, PEM body, seed and two wrapped DEKs were found")
        let all = outputs.joined(separator: "\n")
        for secret in secrets where !secret.isEmpty {
            #expect(!all.contains(secret), "a secret was printed")
        }
    }
}

/// Locks on a tenant's repository, through the CLI: a running backup excludes other writers
/// and readers, a crashed one's lock is recognised as stale.
@Suite struct TenantLockCLITests {
    /// Starts `lethe backup TENANT` in the background; its command source blocks until the file
    /// `release` exists (or 30 s pass), so the lock is held for exactly as long as the test needs.
    final class BlockedBackup {
        let process = Process()
        let release: String

        init(home: E2EHome, tenant: String) throws {
            release = "\(home.root)/release-\(tenant)"
            let add = home.lethe(
                "tenant", "add", tenant, "--source", "dir:\(home.data)/\(tenant)",
                "--source", "wait=cmd:i=0; while [ ! -e '\(release)' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo released")
            #expect(add.status == 0, "\(add.output)")
            var environment = ProcessInfo.processInfo.environment
            environment["LETHE_HOME"] = home.home
            environment.removeValue(forKey: "LETHE_CRASH_AT")
            process.executableURL = URL(fileURLWithPath: E2EHome.binary)
            process.arguments = ["backup", tenant]
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            while home.objects("locks/\(tenant)").isEmpty && Date() < deadline && process.isRunning { usleep(20_000) }
        }

        /// Lets the backup finish; returns its exit status.
        func finish() -> Int32 {
            _ = FileManager.default.createFile(atPath: release, contents: nil)
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit {
            _ = FileManager.default.createFile(atPath: release, contents: nil)
            if process.isRunning { process.waitUntilExit() }
        }
    }

    @Test func runningBackupExcludesASecondBackupAndARestore() throws {
        let home = try E2EHome()
        try SampleTree.make(at: "\(home.data)/acme", seed: 3)
        let running = try BlockedBackup(home: home, tenant: "acme")
        try #require(home.objects("locks/acme").count == 1, "the running backup holds a lock")
        let second = home.lethe("backup", "acme")
        #expect(second.status == 1 && second.stdout.contains("locked by backup"), "\(second.output)")
        let restore = home.lethe("restore", "acme", "--target", "\(home.root)/r")
        #expect(restore.status == 1 && restore.stderr.contains("locked"), "\(restore.output)")
        #expect(running.finish() == 0)
        #expect(home.objects("locks/acme").isEmpty, "the lock is released at the end")
        let snapshots = try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]])
        #expect(snapshots.count == 1, "only the first backup wrote a snapshot")
    }

    /// A tenant that is busy is not a damaged tenant. `verify` checks without a lock first
    /// (what is committed is consistent while a backup runs); what it finds is checked again
    /// under the lock, which a running backup holds: then it says it could not run (exit 1).
    /// Either way it never reports an integrity violation (exit 3), which is what alerting keys on.
    @Test func verifyWhileABackupRunsIsNeverAnIntegrityViolation() throws {
        let home = try E2EHome()
        try SampleTree.make(at: "\(home.data)/acme", seed: 4)
        let running = try BlockedBackup(home: home, tenant: "acme")
        try #require(home.objects("locks/acme").count == 1, "the running backup holds a lock")
        let verify = home.lethe("verify", "acme")
        #expect(verify.status == 0 || (verify.status == 1 && verify.output.contains("locked")), "\(verify.output)")
        #expect(!verify.output.contains("INTEGRITY VIOLATION"), "\(verify.output)")
        #expect(home.objects("locks/acme").count == 1, "verify wrote no lock of its own")
        #expect(running.finish() == 0)
        #expect(home.lethe("verify", "acme").status == 0)
    }

    @Test func lockLeftByACrashedBackupIsFoundStaleByTheNextBackup() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        let crashed = home.lethe(["backup", "acme"], environment: ["LETHE_CRASH_AT": "backup.pack-written"])
        #expect(crashed.status == 86, "\(crashed.output)")
        #expect(home.objects("locks/acme").count == 1, "the crashed backup left its lock behind")
        let next = home.lethe("backup", "acme")
        #expect(next.status == 0, "\(next.output)")
        #expect(home.objects("locks/acme").isEmpty, "the stale lock was removed, and the new one released")
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/r").status == 0)
        #expect(SampleTree.differences(source, "\(home.root)/r") == [])
    }
}

/// `lethe keys rotate`, whole and interrupted at each step of the ratchet: every tenant's
/// backups stay readable and exactly one KEK epoch remains.
@Suite struct KeyRotationCLITests {
    @Test(arguments: [nil, "ratchet.epoch-created", "ratchet.keystore-written", "ratchet.old-epoch-destroyed"])
    func rotationKeepsEveryBackupReadable(crashAt point: String?) throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        let rotate = home.lethe(["keys", "rotate"], environment: point.map { ["LETHE_CRASH_AT": $0] } ?? [:])
        #expect(rotate.status == (point == nil ? 0 : 86), "\(rotate.output)")
        let status = try #require(try home.lethe("keys", "status", "--json").json() as? [String: Any])
        let committed = point != "ratchet.epoch-created"
        #expect(status["kekEpoch"] as? Int == (committed ? 2 : 1))
        #expect(status["kekEpochsPresent"] as? [Int] == [committed ? 2 : 1], "the other epoch was destroyed on reopening")
        #expect((status["pendingEpochDestruction"] as? [Any])?.isEmpty == true)
        #expect(status["tenantKeys"] as? Int == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(home.keys)/kek").count == 1)
        let restore = home.lethe("restore", "acme", "--target", "\(home.root)/r")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(SampleTree.differences(source, "\(home.root)/r") == [])
        #expect(home.lethe("backup", "acme").status == 0)
        #expect(home.lethe("verify", "acme").status == 0)
    }
}
