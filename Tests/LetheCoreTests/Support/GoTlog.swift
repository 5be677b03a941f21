import Foundation

/// Tests/Interop/tlog/main.go, built once per test process with Debian's Go and
/// golang.org/x/mod in GOPATH mode, and run as a separate process.
///
/// A missing Go is an error, not a skip: these tests are the evidence that Lethe's checkpoints
/// and proofs are readable by Go's sumdb tooling, and a silent skip would hide their absence.
enum GoTlog {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Run {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    static let go = "/usr/bin/go"
    static let source = TestFiles.repository.appendingPathComponent("Tests/Interop/tlog")

    /// Where this process builds the program; removed when the process exits.
    private static let buildDirectory = NSTemporaryDirectory() + "lethe-tlog-interop-\(UUID().uuidString)"

    /// The built program, or why it could not be built.
    private static let binary: Result<String, Failure> = {
        guard FileManager.default.isExecutableFile(atPath: go) else {
            return .failure(Failure(description: "\(go) is missing: install golang-go golang-golang-x-mod-dev (Scripts/test.sh does)"))
        }
        let output = buildDirectory + "/tlog"
        atexit { try? FileManager.default.removeItem(atPath: GoTlog.buildDirectory) }
        do {
            try FileManager.default.createDirectory(atPath: buildDirectory, withIntermediateDirectories: true)
            let run = try execute(go, ["build", "-o", output, "main.go"])
            guard run.status == 0 else {
                return .failure(Failure(description: "go build of \(source.path) failed (install golang-go golang-golang-x-mod-dev (Scripts/test.sh does)): \(run.stderr)"))
            }
        } catch {
            return .failure(Failure(description: "cannot run \(go): \(error)"))
        }
        return .success(output)
    }()

    /// Runs the program with `arguments`.
    static func run(_ arguments: String...) throws -> Run {
        try execute(try binary.get(), arguments)
    }

    /// Go reads only Debian's GOPATH, never the network or a go.mod, and needs no C compiler. The
    /// build cache goes to a temporary directory, because HOME may be unwritable (CI) and a test
    /// must not write there.
    private static func execute(_ executable: String, _ arguments: [String]) throws -> Run {
        var environment = ProcessInfo.processInfo.environment
        environment["GOPATH"] = "/usr/share/gocode"
        environment["GO111MODULE"] = "off"
        environment["GOFLAGS"] = ""
        environment["GOENV"] = "off"
        environment["GOTOOLCHAIN"] = "local"
        environment["CGO_ENABLED"] = "0"
        environment["GOCACHE"] = NSTemporaryDirectory() + "lethe-go-build-cache"

        let scratch = NSTemporaryDirectory() + "lethe-go-run-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let stdoutPath = scratch + "/stdout"
        let stderrPath = scratch + "/stderr"
        guard FileManager.default.createFile(atPath: stdoutPath, contents: nil),
              FileManager.default.createFile(atPath: stderrPath, contents: nil) else {
            throw Failure(description: "cannot create the output files in \(scratch)")
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = source
        // Files, not pipes: the fixture is larger than a pipe's buffer.
        let stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        let stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try stdout.close()
        try stderr.close()
        return Run(
            status: process.terminationStatus,
            stdout: try Data(contentsOf: URL(fileURLWithPath: stdoutPath)),
            stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: stderrPath)), as: UTF8.self))
    }
}
