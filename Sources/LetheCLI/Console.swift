import Foundation
import Glibc

/// Where the CLI writes: results to standard output, messages and progress to standard
/// error. Progress is drawn only when standard error is a terminal, so logs and cron mail
/// stay clean.
///
/// Every byte goes through `write(2)` here, never `FileHandle.write`, which traps when the
/// reader has gone (`lethe audit log | head -1`). A stream whose reader has gone is marked
/// closed and further output to it is dropped: the command still finishes its work and exits
/// with its own status, it just stops talking.
final class Console: @unchecked Sendable {
    private let lock = NSLock()
    let progressEnabled: Bool
    private var progressShown = false
    private let output = OutputStream(descriptor: STDOUT_FILENO)
    private let errors = OutputStream(descriptor: STDERR_FILENO)

    init() {
        progressEnabled = isatty(STDERR_FILENO) == 1
    }

    func print(_ line: String) {
        lock.withLock {
            clearProgressLocked()
            output.write(Array((line + "\n").utf8))
        }
    }

    func error(_ line: String) {
        lock.withLock {
            clearProgressLocked()
            errors.write(Array((line + "\n").utf8))
        }
    }

    /// Writes `bytes` to standard output exactly as they are: signed documents, rendered
    /// pages, request bytes to sign. Nothing is added, not even a newline.
    func raw(_ bytes: [UInt8]) {
        lock.withLock {
            clearProgressLocked()
            output.write(bytes)
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
            errors.write(Array(("\r\u{1B}[2K" + line.prefix(160)).utf8))
            progressShown = true
        }
    }

    func clearProgress() {
        lock.withLock { clearProgressLocked() }
    }

    private func clearProgressLocked() {
        guard progressShown else { return }
        errors.write(Array("\r\u{1B}[2K".utf8))
        progressShown = false
    }
}

/// One of the process's standard streams, written with `write(2)`. SIGPIPE is ignored
/// (`LetheCLI.hardenProcess`), so a vanished reader shows up as EPIPE: from then on the
/// stream is closed and writes are dropped. Any other failure (a full disk behind a
/// redirection) also closes it, since there is nowhere left to report it.
private final class OutputStream {
    private let descriptor: Int32
    private var closed = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    func write(_ bytes: [UInt8]) {
        guard !closed else { return }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    closed = true
                    return
                }
            }
        }
    }
}
