import Foundation
import Glibc

/// Where the CLI writes: results to standard output, messages and progress to standard
/// error. Progress is drawn only when standard error is a terminal, so logs and cron mail
/// stay clean.
final class Console: @unchecked Sendable {
    private let lock = NSLock()
    let progressEnabled: Bool
    private var progressShown = false

    init() {
        progressEnabled = isatty(STDERR_FILENO) == 1
    }

    func print(_ line: String) {
        lock.withLock {
            clearProgressLocked()
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    func error(_ line: String) {
        lock.withLock {
            clearProgressLocked()
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Prints `value` as pretty, key-sorted JSON on standard output.
    func json<T: Encodable>(_ value: T) throws {
        print(try JSONOutput.string(value))
    }

    /// Replaces the progress line on a terminal; does nothing otherwise.
    func progress(_ line: String) {
        guard progressEnabled else { return }
        lock.withLock {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line.prefix(160)).utf8))
            progressShown = true
        }
    }

    func clearProgress() {
        lock.withLock { clearProgressLocked() }
    }

    private func clearProgressLocked() {
        guard progressShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        progressShown = false
    }
}

enum JSONOutput {
    static func string<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
