import Foundation
import Glibc

/// What one run of the `lethe` binary did.
struct E2ERun {
    let status: Int32
    let stdout: String
    let stderr: String

    var output: String { stdout + stderr }

    /// Parses standard output as JSON.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
    }
}

/// A Lethe home, key directory and data directory in a fresh temporary directory, and the real
/// `lethe` binary to run against them. Removed when released. Tests run in parallel; each owns
/// one of these.
final class E2EHome: @unchecked Sendable {
    let root: String
    var home: String { "\(root)/home" }
    var keys: String { "\(root)/keys" }
    var data: String { "\(root)/data" }
    var store: String { "\(home)/store" }

    /// The binary under test: LETHE_BINARY, else the `lethe` built beside this test bundle,
    /// else the package's debug build.
    static let binary: String = {
        if let given = ProcessInfo.processInfo.environment["LETHE_BINARY"] { return given }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("lethe").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.appendingPathComponent(".build/debug/lethe").path
    }()

    /// The repository's root, for docs and scripts.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    init(initialize: Bool = true) throws {
        root = NSTemporaryDirectory() + "lethe-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: "\(root)/data", withIntermediateDirectories: true)
        if initialize {
            let run = lethe("init", "--keys", keys)
            guard run.status == 0 else { throw E2EError("lethe init failed: \(run.output)") }
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `lethe ARGS…` with LETHE_HOME set, plus `environment`.
    @discardableResult
    func lethe(_ arguments: String..., environment: [String: String] = [:]) -> E2ERun {
        lethe(arguments, environment: environment)
    }

    @discardableResult
    func lethe(_ arguments: [String], environment: [String: String] = [:]) -> E2ERun {
        var env = ProcessInfo.processInfo.environment
        env["LETHE_HOME"] = home
        env["LETHE_ACTOR"] = "e2e-tester"
        env.removeValue(forKey: "LETHE_CRASH_AT")
        env.removeValue(forKey: "LETHE_NOW")
        for (key, value) in environment { env[key] = value }
        return E2EHome.run(E2EHome.binary, arguments, environment: env, directory: root)
    }

    /// Runs a program to completion, capturing its output through files (no pipe deadlocks).
    static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) -> E2ERun {
        let capture = NSTemporaryDirectory() + "lethe-e2e-out-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: capture + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: capture + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: capture + ".out")
            try? FileManager.default.removeItem(atPath: capture + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: capture + ".out")
        process.standardError = FileHandle(forWritingAtPath: capture + ".err")
        do {
            try process.run()
        } catch {
            return E2ERun(status: -1, stdout: "", stderr: "cannot run \(program): \(error)")
        }
        process.waitUntilExit()
        let out = (try? String(contentsOfFile: capture + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: capture + ".err", encoding: .utf8)) ?? ""
        return E2ERun(status: process.terminationStatus, stdout: out, stderr: err)
    }

    /// Runs `bash -c script` in `directory` with `environment` added.
    static func shell(_ script: String, directory: String, environment: [String: String] = [:]) -> E2ERun {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        return run("/bin/bash", ["-c", script], environment: env, directory: directory)
    }

    // MARK: Files

    func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        try write(path, Array(text.utf8), mode: mode)
    }

    func write(_ path: String, _ bytes: [UInt8], mode: Int = 0o644) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        chmod(path, mode_t(mode))
    }

    /// Every object file under `prefix` of the store (relative to the store root), sorted.
    func objects(_ prefix: String) -> [String] {
        let base = "\(store)/\(prefix)"
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        var found: [String] = []
        while let item = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(base)/\(item)", isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append("\(prefix)/\(item)")
            }
        }
        return found.sorted()
    }

    /// The tenant's packs, largest first: content before trees, which have packs of their own.
    func packsLargestFirst(_ tenant: String) -> [String] {
        func size(_ key: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: "\(store)/\(key)"))?[.size] as? Int) ?? 0
        }
        return objects("tenants/\(tenant)/data").sorted { size($0) > size($1) }
    }

    /// Adds a tenant with one directory source at `data/<name>`, filled by `SampleTree`.
    @discardableResult
    func addTenant(_ name: String, bigFile: Int = 0) throws -> String {
        let directory = "\(data)/\(name)"
        try SampleTree.make(at: directory, seed: UInt64(abs(name.hashValue % 1000)), bigFile: bigFile)
        let run = lethe("tenant", "add", name, "--source", "dir:\(directory)", "--name", "Client \(name)")
        guard run.status == 0 else { throw E2EError("tenant add \(name) failed: \(run.output)") }
        return directory
    }
}

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic random bytes for sample data (not cryptographic: test content only).
struct SeededBytes {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var x = state
        x ^= x >> 33
        x = x &* 0xff51afd7ed558ccd
        x ^= x >> 33
        return x
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            withUnsafeBytes(of: next()) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }
}

extension E2EHome {
    /// Makes each of `who` (name, role) an authorizer with an openssl-made key at
    /// `root/NAME.pem`: one registry proposal, signed by the first with `lethe authorizer sign
    /// --key` and by the others with stock openssl over `lethe authorizer proposal --raw`.
    func registerAuthorizers(
        _ who: [(name: String, role: String)], graceHours: Int? = nil, policy: [String] = [], environment: [String: String] = [:]
    ) throws {
        for (name, role) in who {
            if !FileManager.default.fileExists(atPath: "\(root)/\(name).pem") {
                _ = E2EHome.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", "\(root)/\(name).pem"])
                _ = E2EHome.run("/usr/bin/openssl", ["pkey", "-in", "\(root)/\(name).pem", "-pubout", "-out", "\(root)/\(name).pub.pem"])
            }
            let add = lethe(["authorizer", "add", name, "--role", role, "--public-key", "\(root)/\(name).pub.pem"], environment: environment)
            guard add.status == 0 else { throw E2EError("authorizer add \(name): \(add.output)") }
        }
        if let graceHours {
            let policy = lethe(["authorizer", "policy", "--grace-hours", String(graceHours)], environment: environment)
            guard policy.status == 0 else { throw E2EError("authorizer policy: \(policy.output)") }
        }
        if !policy.isEmpty {
            let set = lethe(["authorizer", "policy"] + policy, environment: environment)
            guard set.status == 0 else { throw E2EError("authorizer policy: \(set.output)") }
        }
        for (offset, (name, _)) in who.enumerated() {
            let sign: E2ERun
            if offset == 0 {
                sign = lethe(["authorizer", "sign", "--key", "\(root)/\(name).pem"], environment: environment)
            } else {
                try write("\(root)/proposal.json", lethe(["authorizer", "proposal", "--raw"], environment: environment).stdout)
                let signature = "\(root)/\(name)-proposal.sig"
                _ = E2EHome.run("/usr/bin/openssl", [
                    "pkeyutl", "-sign", "-rawin", "-inkey", "\(root)/\(name).pem", "-in", "\(root)/proposal.json", "-out", signature,
                ])
                sign = lethe(["authorizer", "sign", "--authorizer", name, "--signature", signature], environment: environment)
            }
            guard sign.status == 0 else { throw E2EError("authorizer sign by \(name): \(sign.output)") }
        }
    }
}
