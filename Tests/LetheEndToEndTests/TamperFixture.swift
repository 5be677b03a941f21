import Foundation
import Glibc
import LetheCrypto

/// The home the tamper matrix attacks, built once per test process: four tenants with several
/// snapshots each, an authorizer registry in two versions (dana dpo and carl officer, then erin
/// officer added), a completed destruction with its report (initech), a pending request (acme,
/// dana's approval only), an approved request in its grace period (globex), a cancelled request
/// that had been approved (umbrella), a nightly run's files, and the leftovers of a backup killed
/// after writing a pack (a stale lock and a pack no index lists).
///
/// `early` is a copy of the home taken before the last operations (the second registry
/// version, acme's and globex's last approvals, umbrella's cancellation and last backups): the
/// source of every roll-back.
final class TamperGolden: @unchecked Sendable {
    static let shared: Result<TamperGolden, any Error> = Result { try TamperGolden() }

    static func get() throws -> TamperGolden { try shared.get() }

    let builder: E2EHome
    var root: String { builder.root }
    var home: String { builder.home }
    var keys: String { builder.keys }
    var early: String { "\(root)/early/home" }
    /// What an auditor holds out of band: the service's public key and the authorizers' fingerprints.
    var trustedServiceKey: String { "\(root)/trust/signing-key.pub.pem" }
    var trustedAuthorizers: String { "\(root)/trust/authorizers.txt" }

    let tenants = ["acme", "globex", "initech", "umbrella"]
    private(set) var pending = ""
    private(set) var approved = ""
    private(set) var cancelled = ""
    private(set) var completed = ""
    var report: String { "rpt-" + completed.dropFirst(3) }
    static func reportID(_ request: String) -> String { "rpt-" + request.dropFirst(3) }

    /// LETHE_NOW, `hours` after 2026-03-01T02:00:00Z.
    static func at(_ hours: Double) -> [String: String] {
        let start = ISO8601DateFormatter().date(from: "2026-03-01T02:00:00Z")!
        return ["LETHE_NOW": ISO8601DateFormatter().string(from: start.addingTimeInterval(hours * 3600))]
    }

    /// When the probes run: every grace period has passed.
    static let probeTime = at(720)

    /// How long building it took.
    private(set) var buildSeconds = 0.0

    private init() throws {
        let started = Date()
        builder = try E2EHome()
        // A static is never released, so E2EHome's deinit would never remove it.
        goldenRoot.set(builder.root)
        atexit { goldenRoot.get().map(removeTree) }
        try build()
        buildSeconds = Date().timeIntervalSince(started)
    }

    @discardableResult
    private func must(_ arguments: [String], at hours: Double, _ extra: [String: String] = [:]) throws -> E2ERun {
        let run = builder.lethe(arguments, environment: TamperGolden.at(hours).merging(extra) { $1 })
        guard run.status == 0 else { throw E2EError("golden home: lethe \(arguments.joined(separator: " ")) exited \(run.status): \(run.output)") }
        return run
    }

    private func requestID(_ run: E2ERun) throws -> String {
        guard let id = (try run.json() as? [String: Any])?["id"] as? String else { throw E2EError("no request id in \(run.stdout)") }
        return id
    }

    /// Small tenant data: a text file, a random file spanning a pack, a nested CSV.
    private func writeData(_ tenant: String, generation: Int) throws {
        var random = SeededBytes(seed: UInt64(tenant.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }) &+ UInt64(generation))
        let directory = "\(builder.data)/\(tenant)"
        try builder.write("\(directory)/notes.md", "Notes of \(tenant), generation \(generation)\n")
        try builder.write("\(directory)/sub/contacts.csv", (1...50).map { "\($0),Person \($0) of \(tenant)\n" }.joined())
        try builder.write("\(directory)/blob-\(generation).bin", random.bytes(120_000))
    }

    private func sign(_ request: String, as who: String, at hours: Double) throws {
        if who == "dana" {
            try must(["destroy", "approve", request, "--key", "\(root)/dana.pem"], at: hours)
            return
        }
        try builder.write("\(root)/\(request).json", builder.lethe("destroy", "show", request, "--raw").stdout)
        let signature = "\(root)/\(who)-\(request).sig"
        _ = E2EHome.run("/usr/bin/openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", "\(root)/\(who).pem", "-in", "\(root)/\(request).json", "-out", signature])
        try must(["destroy", "approve", request, "--authorizer", who, "--signature", signature], at: hours)
    }

    private func signProposal(as who: String, at hours: Double) throws {
        if who == "dana" {
            try must(["authorizer", "sign", "--key", "\(root)/dana.pem"], at: hours)
            return
        }
        try builder.write("\(root)/proposal.json", builder.lethe("authorizer", "proposal", "--raw").stdout)
        let signature = "\(root)/\(who)-proposal.sig"
        _ = E2EHome.run("/usr/bin/openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", "\(root)/\(who).pem", "-in", "\(root)/proposal.json", "-out", signature])
        try must(["authorizer", "sign", "--authorizer", who, "--signature", signature], at: hours)
    }

    private func build() throws {
        for who in ["dana", "carl", "erin", "mallory"] {
            _ = E2EHome.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", "\(root)/\(who).pem"])
            _ = E2EHome.run("/usr/bin/openssl", ["pkey", "-in", "\(root)/\(who).pem", "-pubout", "-out", "\(root)/\(who).pub.pem"])
        }
        for tenant in tenants {
            try writeData(tenant, generation: 0)
            try must(["tenant", "add", tenant, "--source", "dir:\(builder.data)/\(tenant)", "--name", "Client \(tenant)"], at: 0)
        }
        try must(["backup", "--all"], at: 0)
        for tenant in tenants { try writeData(tenant, generation: 1) }
        try must(["backup", "--all"], at: 24)
        // Registry version 1: dana (dpo) and carl (officer).
        try must(["authorizer", "add", "dana", "--role", "dpo", "--public-key", "\(root)/dana.pub.pem"], at: 25)
        try must(["authorizer", "add", "carl", "--role", "officer", "--public-key", "\(root)/carl.pub.pem"], at: 25)
        try signProposal(as: "dana", at: 25)
        try signProposal(as: "carl", at: 25)
        // initech: destroyed, reported.
        completed = try requestID(try must(["destroy", "request", "initech", "--reason", "client-request", "--json"], at: 48))
        try sign(completed, as: "dana", at: 48)
        try sign(completed, as: "carl", at: 48)
        try must(["destroy", "execute", completed], at: 73)
        try must(["nightly", "--json"], at: 74)
        // Registry version 2 proposed (adds erin), dana signs.
        try must(["authorizer", "add", "erin", "--role", "officer", "--public-key", "\(root)/erin.pub.pem"], at: 90)
        try signProposal(as: "dana", at: 90)
        pending = try requestID(try must(["destroy", "request", "acme", "--reason", "client-request", "--json"], at: 100))
        approved = try requestID(try must(["destroy", "request", "globex", "--reason", "contract-end", "--json"], at: 100))
        cancelled = try requestID(try must(["destroy", "request", "umbrella", "--reason", "client-request", "--json"], at: 100))
        try sign(approved, as: "dana", at: 100)
        try sign(cancelled, as: "dana", at: 100)
        try sign(cancelled, as: "carl", at: 100)

        try FileManager.default.createDirectory(atPath: "\(root)/early", withIntermediateDirectories: true)
        try copyTree(home, to: early)

        try signProposal(as: "carl", at: 101)
        try signProposal(as: "erin", at: 101)
        try sign(pending, as: "dana", at: 110)
        try sign(approved, as: "carl", at: 110)
        try must(["destroy", "cancel", cancelled, "--reason", "the client stays"], at: 111)
        try writeData("umbrella", generation: 2)
        try must(["backup", "umbrella"], at: 112)
        // A backup killed after writing a pack: a stale lock and a pack no index lists.
        try writeData("umbrella", generation: 3)
        let killed = builder.lethe(["backup", "umbrella"], environment: TamperGolden.at(113).merging(["LETHE_CRASH_AT": "backup.pack-written"]) { $1 })
        guard killed.status == 86 else { throw E2EError("the killed backup exited \(killed.status): \(killed.output)") }

        try FileManager.default.createDirectory(atPath: "\(root)/trust", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(keys)/signing-key.pub.pem", toPath: trustedServiceKey)
        try builder.write(trustedAuthorizers, builder.lethe("authorizer", "list", "--fingerprints").stdout)
    }

    /// Every file of the home (relative paths), the key directory excluded (it is not in the home).
    func files(under directory: String? = nil) -> [String] {
        TamperGolden.files(in: directory ?? home)
    }

    /// The size of the golden log: the second line of its newest checkpoint.
    func auditSize() throws -> Int {
        let text = String(decoding: readBytes("\(home)/store/audit/checkpoint"), as: UTF8.self)
        let lines = text.split(separator: "\n")
        guard lines.count > 1, let size = Int(lines[1]) else { throw E2EError("the golden home's audit/checkpoint has no size") }
        return size
    }

    static func files(in base: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        var found: [String] = []
        while let item = walker.nextObject() as? String {
            var info = stat()
            if lstat("\(base)/\(item)", &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { found.append(item) }
        }
        return found.sorted()
    }
}

/// The golden home's directory, removed when the test process exits.
let goldenRoot = GoldenRoot()

final class GoldenRoot: @unchecked Sendable {
    private let lock = NSLock()
    private var path: String?
    func set(_ value: String) { lock.withLock { path = value } }
    func get() -> String? { lock.withLock { path } }
}

func copyTree(_ source: String, to target: String) throws {
    let run = E2EHome.run("/bin/cp", ["-a", source, target])
    guard run.status == 0 else { throw E2EError("cp -a \(source) \(target): \(run.output)") }
}

func removeTree(_ path: String) {
    _ = E2EHome.run("/bin/rm", ["-rf", path])
}

/// What the probes and the invariant checks look at.
enum TamperProbe: String, CaseIterable, Sendable {
    case auditVerify = "audit verify"
    case reportVerify = "report verify"
    case verifyData = "verify --read-data"
    case restoreOther = "restore umbrella"
    case executePending = "execute pending"
    case executeCancelled = "execute cancelled"
    case executeApproved = "execute approved"
    /// `tenant show` of acme, umbrella and globex: the first that does not exit 0 speaks.
    case tenantShow = "tenant show"
    case nightly = "nightly"
}

struct ProbeRun: Sendable {
    let probe: TamperProbe
    let status: Int32
    let stdout: String
    let stderr: String

    /// The line that says what went wrong: standard error's first line, else the first problem
    /// the command's own output lists.
    var message: String {
        if let line = stderr.split(separator: "\n").first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            return String(line)
        }
        if let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) {
            if let summary = object as? [String: Any], let failure = (summary["failures"] as? [String])?.first { return failure }
            for result in (object as? [[String: Any]]) ?? (object as? [String: Any])?["verification"] as? [[String: Any]] ?? [] {
                if let error = result["error"] as? String { return "\(result["tenant"] ?? ""): \(error)" }
                if let error = ((result["report"] as? [String: Any])?["errors"] as? [String])?.first { return error }
            }
            return ""
        }
        let lines = stdout.split(separator: "\n")
        let problem = lines.first { $0.hasPrefix("  ") && !$0.hasPrefix("  note:") } ?? lines.first { $0.hasPrefix("FAILED") }
            ?? lines.first { $0.contains("NOT INTACT") }
        return problem.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    var crashed: Bool {
        !(0...4).contains(status) || ["Fatal error", "Stack dump", "Current stack trace", "backtrace", "Illegal instruction"].contains { stderr.contains($0) }
    }
}

/// One copy of the golden home that cases mutate; reset before each case. Its lethe.json is
/// relocated to point at this copy's own store and key directory, once, with `lethe config set`
/// (lethe.json is signed: editing it by hand is itself a tampering), and that signed file is put
/// back at every reset.
/// It lives in /dev/shm where there is one: every Lethe write is fsynced, and the matrix
/// makes many.
final class TamperSandbox: @unchecked Sendable {
    let golden: TamperGolden
    let root: String
    var home: String { "\(root)/home" }
    var keys: String { "\(root)/keys" }
    var store: String { "\(home)/store" }
    var restoreTarget: String { "\(root)/restored" }

    init(_ golden: TamperGolden) throws {
        self.golden = golden
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        root = base + "lethe-tamper-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try copyGolden()
        try relocateConfiguration()
        try reset()
    }

    /// The relocated, signed lethe.json, kept beside the copy for every reset.
    var relocated: String { "\(root)/relocated/lethe.json" }
    /// A second home of this copy's installation (`init --join`), whose lethe.json no case
    /// touches: it judges the keystore whatever a case did to the copy's own.
    var keycheck: String { "\(root)/keycheck" }

    deinit {
        removeTree(root)
    }

    /// One process for the whole copy: cases are many and processes are what they cost.
    func reset() throws {
        try copyGolden(then: " && cp '\(relocated)' '\(home)/lethe.json'")
    }

    private func copyGolden(then extra: String = "") throws {
        let quoted = { (path: String) in "'\(path)'" }
        let script = "rm -rf \(quoted(home)) \(quoted(keys)) \(quoted(restoreTarget)) \(quoted("\(root)/h")) \(quoted("\(root)/empty-store"))"
            + " && cp -a \(quoted(golden.home)) \(quoted(home)) && cp -a \(quoted(golden.keys)) \(quoted(keys))" + extra
        let run = E2EHome.run("/bin/sh", ["-c", script])
        guard run.status == 0 else { throw E2EError("resetting the sandbox: \(run.output)") }
    }

    /// Points lethe.json at this sandbox's store and keys the way an operator who moved them
    /// would, keeps the signed result, and makes the key-checking home.
    func relocateConfiguration() throws {
        let set = lethe(["config", "set", "keysDirectory", keys, "storeDirectory", store])
        guard set.status == 0 else { throw E2EError("relocating the sandbox's configuration: \(set.output)") }
        removeTree("\(root)/relocated")
        removeTree(keycheck)
        try FileManager.default.createDirectory(atPath: "\(root)/relocated", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(home)/lethe.json", toPath: relocated)
        let join = lethe(["init", "--join", relocated], environment: ["LETHE_HOME": keycheck])
        guard join.status == 0 else { throw E2EError("making the key-checking home: \(join.output)") }
    }

    /// Runs `lethe` on this copy at the probes' time, as E2EHome.lethe does.
    func lethe(_ arguments: [String], environment extra: [String: String] = [:]) -> E2ERun {
        var env = ProcessInfo.processInfo.environment
        env["LETHE_HOME"] = home
        env["LETHE_ACTOR"] = "e2e-tester"
        env.removeValue(forKey: "LETHE_CRASH_AT")
        for (key, value) in TamperGolden.probeTime.merging(extra, uniquingKeysWith: { $1 }) { env[key] = value }
        return E2EHome.run(E2EHome.binary, arguments, environment: env, directory: root)
    }

    func run(_ probe: TamperProbe) -> ProbeRun {
        let run: E2ERun
        switch probe {
        case .auditVerify: run = lethe(["audit", "verify"])
        case .reportVerify:
            run = lethe(["report", "verify", golden.report, "--public-key", golden.trustedServiceKey, "--authorizers", golden.trustedAuthorizers])
        case .verifyData: run = lethe(["verify", "--read-data", "--json"])
        case .restoreOther:
            removeTree(restoreTarget)
            run = lethe(["restore", "umbrella", "--target", restoreTarget])
        case .executePending: run = lethe(["destroy", "execute", golden.pending])
        case .executeCancelled: run = lethe(["destroy", "execute", golden.cancelled])
        case .executeApproved: run = lethe(["destroy", "execute", golden.approved])
        case .tenantShow:
            let shows = ["acme", "umbrella", "globex"].map { lethe(["tenant", "show", $0, "--json"]) }
            run = shows.first { $0.status != 0 } ?? shows[0]
        case .nightly: run = lethe(["nightly", "--json"])
        }
        return ProbeRun(probe: probe, status: run.status, stdout: run.stdout, stderr: run.stderr)
    }

    // MARK: What matters afterwards

    /// The tenants whose entry the keystore file holds, and whether the keystore verifies
    /// (MAC, KEK present), judged with this sandbox's genuine configuration whatever the case
    /// did to lethe.json.
    func keystoreTenants() -> (tenants: Set<String>, verifies: Bool, detail: String) {
        let status = lethe(["keys", "status", "--json"], environment: ["LETHE_HOME": keycheck])
        let count = (try? status.json() as? [String: Any])?["tenantKeys"] as? Int
        let file = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(keys)/keystore.json")))) as? [String: Any]
        let tenants = Set(((file?["tenants"] as? [String: Any]) ?? [:]).keys)
        return (tenants, status.status == 0 && count == tenants.count, status.status == 0 ? "" : status.stderr)
    }

    func objects(of tenant: String) -> [String] {
        TamperGolden.files(in: "\(store)/tenants/\(tenant)")
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: "\(home)/\(relative)") }

    /// Whether the report of `request` exists and verifies against what the auditor holds.
    func reportVerifiesIndependently(_ request: String) -> Bool {
        let id = TamperGolden.reportID(request)
        guard exists("store/reports/\(id).json") else { return false }
        return lethe([
            "report", "verify", "--report", "\(store)/reports/\(id).json", "--signature", "\(store)/reports/\(id).sig",
            "--public-key", golden.trustedServiceKey, "--authorizers", golden.trustedAuthorizers,
        ]).status == 0
    }

    /// The status in the request's signed state.json (read without checking the signature).
    func requestStatus(_ request: String) -> String {
        let envelope = (try? JSONSerialization.jsonObject(with: Data(readBytes("\(store)/destruction/\(request)/state.json")))) as? [String: Any]
        guard let document = (envelope?["document"] as? String).flatMap({ Data(base64Encoded: $0) }),
              let state = (try? JSONSerialization.jsonObject(with: document)) as? [String: Any] else { return "?" }
        return state["status"] as? String ?? "?"
    }

    /// A digest of the restored tree: paths, kinds, modes, contents, link targets.
    func restoredDigest() -> String {
        var lines: [String] = []
        let base = restoreTarget
        for path in (FileManager.default.subpaths(atPath: base) ?? []).sorted() {
            var info = stat()
            guard lstat("\(base)/\(path)", &info) == 0 else { continue }
            var line = "\(path) \(info.st_mode)"
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: "\(base)/\(path)"))).map(Array.init) ?? []
                line += " " + ((try? Hex.encode(SHA256.hash(bytes))) ?? "?")
            case S_IFLNK:
                line += " -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(base)/\(path)")) ?? "?")
            default:
                break
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension [UInt8] {
    /// The bytes with one bit flipped in the middle.
    func flippingMiddleByte() -> [UInt8] {
        guard !isEmpty else { return [0x7a] }
        var copy = self
        copy[count / 2] ^= 0x20
        return copy
    }
}

func readBytes(_ path: String) -> [UInt8] {
    (try? Data(contentsOf: URL(fileURLWithPath: path))).map(Array.init) ?? []
}

func writeBytes(_ path: String, _ bytes: [UInt8]) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readText(_ path: String) -> String { String(decoding: readBytes(path), as: UTF8.self) }
