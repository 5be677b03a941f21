import Foundation
import LetheStore

/// One fuzz target: a decoder of something Lethe reads from storage or from the network,
/// driven the way Lethe drives it, with what Lethe does right after decoding.
///
/// `run` returns normally when the input is accepted and throws the decoder's own error when it
/// is rejected; it traps (and so the fuzzer reports a crash) only on a bug: a decoder that traps
/// on hostile input, or an accepted input that breaks an invariant of its format (it does not
/// survive re-encoding, say). See docs/fuzzing.md.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let run: @Sendable ([UInt8]) throws -> Void

    init(_ name: String, _ summary: String, _ run: @escaping @Sendable ([UInt8]) throws -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

/// An input refused by a decoder that says so with nil or false rather than an error.
public struct Rejected: KindedError, Equatable, CustomStringConvertible {
    public let decoder: String
    public var kind: ErrorKind { .integrity }
    public var description: String { "\(decoder) refused the input" }
}

public enum FuzzTargets {
    public static let all: [FuzzTarget] = repositoryTargets + keyTargets + coreTargets + extractTargets + s3Targets

    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}

/// A broken invariant of an accepted input: a bug, reported to the fuzzer as a crash.
func invariant(_ condition: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String) rethrows {
    if try !condition() { fatalError("invariant broken: \(message())") }
}

/// Rejects unless `value` is non-nil.
func accepted<T>(_ value: T?, by decoder: String) throws -> T {
    guard let value else { throw Rejected(decoder: decoder) }
    return value
}

/// The input split at every 0x00 byte (for targets whose input is several documents).
func segments(_ bytes: [UInt8]) -> [[UInt8]] {
    bytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
}

/// The first line of the input and the bytes after it.
func firstLine(_ bytes: [UInt8]) -> (line: String, rest: [UInt8]) {
    guard let newline = bytes.firstIndex(of: 0x0a) else { return (String(decoding: bytes, as: UTF8.self), []) }
    return (String(decoding: bytes[..<newline], as: UTF8.self), Array(bytes[(newline + 1)...]))
}

/// Lethe's canonical JSON: sorted keys, no whitespace, slashes as they are.
func canonicalJSON(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value))
}
