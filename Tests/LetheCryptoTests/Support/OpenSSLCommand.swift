import Foundation
import Testing

/// Runs the `openssl` command-line tool (OpenSSL 3) in a scratch directory, for the
/// interoperability tests.
///
/// Standard input is /dev/null, so a command that wanted to prompt (for a passphrase, say)
/// fails instead of waiting; every command is killed after `timeLimit` seconds.
struct OpenSSLCommand {
    static let executable = URL(fileURLWithPath: "/usr/bin/openssl")
    static let timeLimit: TimeInterval = 60

    struct Output: CustomStringConvertible {
        let commandLine: String
        let status: Int32
        let standardOutput: Data
        let standardError: Data

        var succeeded: Bool { status == 0 }
        var text: String { String(decoding: standardOutput, as: UTF8.self) }
        var errorText: String { String(decoding: standardError, as: UTF8.self) }
        var description: String {
            "`\(commandLine)` exited \(status); stdout: \(text) stderr: \(errorText)"
        }
    }

    /// A fresh, empty directory that is removed when the test is done with it.
    final class ScratchDirectory {
        let url: URL

        init() throws {
            url = FileManager.default.temporaryDirectory
                .appendingPathComponent("lethe-crypto-tests-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }

        func path(_ name: String) -> String { url.appendingPathComponent(name).path }

        func write(_ bytes: [UInt8], to name: String) throws {
            try Data(bytes).write(to: url.appendingPathComponent(name))
        }

        func write(_ text: String, to name: String) throws {
            try Data(text.utf8).write(to: url.appendingPathComponent(name))
        }

        func read(_ name: String) throws -> [UInt8] {
            try [UInt8](Data(contentsOf: url.appendingPathComponent(name)))
        }

        func readText(_ name: String) throws -> String {
            String(decoding: try read(name), as: UTF8.self)
        }

        deinit { try? FileManager.default.removeItem(at: url) }
    }

    let directory: ScratchDirectory

    init(in directory: ScratchDirectory) {
        self.directory = directory
    }

    /// Runs `openssl arguments...` in the scratch directory and returns what it printed.
    @discardableResult
    func run(_ arguments: [String], input: [UInt8]? = nil) throws -> Output {
        try runPipeline([arguments], input: input)
    }

    /// Runs `openssl a | openssl b | ...` in the scratch directory; the output and status are
    /// the last command's, and the pipeline fails if any command does.
    @discardableResult
    func runPipeline(_ commands: [[String]], input: [UInt8]? = nil) throws -> Output {
        let id = UUID().uuidString
        let inputURL = directory.url.appendingPathComponent(".stdin-\(id)")
        let outputURL = directory.url.appendingPathComponent(".stdout-\(id)")
        let errorURL = directory.url.appendingPathComponent(".stderr-\(id)")
        defer {
            for url in [inputURL, outputURL, errorURL] { try? FileManager.default.removeItem(at: url) }
        }
        try Data().write(to: outputURL)
        try Data().write(to: errorURL)
        let outputHandle = try FileHandle(forWritingTo: outputURL)
        let errorHandle = try FileHandle(forWritingTo: errorURL)
        defer {
            try? outputHandle.close()
            try? errorHandle.close()
        }
        var firstInput: FileHandle = FileHandle.nullDevice
        if let input {
            try Data(input).write(to: inputURL)
            firstInput = try FileHandle(forReadingFrom: inputURL)
        }

        var processes: [Process] = []
        var previousPipe: Pipe?
        for (index, arguments) in commands.enumerated() {
            let process = Process()
            process.executableURL = Self.executable
            process.arguments = arguments
            process.currentDirectoryURL = directory.url
            process.standardInput = previousPipe ?? firstInput
            process.standardError = errorHandle
            if index == commands.count - 1 {
                process.standardOutput = outputHandle
            } else {
                let pipe = Pipe()
                process.standardOutput = pipe
                previousPipe = pipe
            }
            processes.append(process)
        }
        for process in processes { try process.run() }

        let deadline = Date().addingTimeInterval(Self.timeLimit)
        for process in processes {
            while process.isRunning {
                if Date() > deadline {
                    process.terminate()
                    break
                }
                Thread.sleep(forTimeInterval: 0.01)
            }
            process.waitUntilExit()
        }
        if input != nil { try? firstInput.close() }

        let failed = processes.first { $0.terminationStatus != 0 }
        return Output(
            commandLine: commands.map { (["openssl"] + $0).joined(separator: " ") }.joined(separator: " | "),
            status: (failed ?? processes.last!).terminationStatus,
            standardOutput: try Data(contentsOf: outputURL),
            standardError: try Data(contentsOf: errorURL))
    }

    /// Runs a command that must succeed, recording the failure in the current test otherwise.
    @discardableResult
    func expectSuccess(
        _ arguments: [String], input: [UInt8]? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Output {
        let output = try run(arguments, input: input)
        try #require(output.succeeded, "\(output)", sourceLocation: sourceLocation)
        return output
    }
}
