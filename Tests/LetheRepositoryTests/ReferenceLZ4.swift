import Foundation
import Testing

/// The reference LZ4 implementation, as PyPI's `lz4` package exposes it (`lz4.block`, the C
/// library's `LZ4_compress_*` and `LZ4_decompress_safe`), for the compatibility tests.
/// Scripts/test.sh installs it; a test that cannot run it fails, it never skips.
struct ReferenceLZ4 {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "lethe-lz4-reference-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let check = try Self.python(["-c", "import lz4.block, lz4; print(lz4.__version__)"])
        guard check.status == 0 else {
            throw ReferenceUnavailable(
                "python3 cannot import lz4.block (install it: python3 -m pip install lz4, as Scripts/test.sh does): \(check.output)")
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Each block decoded by `lz4.block.decompress(block, uncompressed_size: length)`, which
    /// refuses a block that does not decode to exactly that length.
    func decompress(_ blocks: [(block: [UInt8], length: Int)]) throws -> [[UInt8]] {
        var arguments = ["-c", """
            import sys, lz4.block
            args = sys.argv[1:]
            for path, size in zip(args[0::2], args[1::2]):
                data = open(path, "rb").read()
                open(path + ".out", "wb").write(lz4.block.decompress(data, uncompressed_size=int(size)))
            """]
        for (i, item) in blocks.enumerated() {
            let path = "\(directory)/lethe-\(i).lz4"
            try Data(item.block).write(to: URL(fileURLWithPath: path))
            arguments += [path, String(item.length)]
        }
        let run = try Self.python(arguments)
        guard run.status == 0 else { throw ReferenceUnavailable("lz4.block.decompress failed: \(run.output)") }
        return try blocks.indices.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(directory)/lethe-\($0).lz4.out"))) }
    }

    /// Each input compressed by `lz4.block.compress(data, store_size=False, …)` in `mode`:
    /// `default`, `fast` (acceleration 8) or `high_compression` (level 12).
    func compress(_ inputs: [[UInt8]], mode: String) throws -> [[UInt8]] {
        var arguments = ["-c", """
            import sys, lz4.block
            mode = sys.argv[1]
            options = {"default": {}, "fast": {"mode": "fast", "acceleration": 8},
                       "high_compression": {"mode": "high_compression", "compression": 12}}[mode]
            for path in sys.argv[2:]:
                data = open(path, "rb").read()
                open(path + ".lz4", "wb").write(lz4.block.compress(data, store_size=False, **options))
            """, mode]
        for (i, input) in inputs.enumerated() {
            let path = "\(directory)/input-\(mode)-\(i)"
            try Data(input).write(to: URL(fileURLWithPath: path))
            arguments.append(path)
        }
        let run = try Self.python(arguments)
        guard run.status == 0 else { throw ReferenceUnavailable("lz4.block.compress failed: \(run.output)") }
        return try inputs.indices.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(directory)/input-\(mode)-\($0).lz4"))) }
    }

    struct Run {
        let status: Int32
        let output: String
    }

    static func python(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let capture = NSTemporaryDirectory() + "lethe-lz4-python-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: capture, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: capture) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: capture))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return Run(status: process.terminationStatus, output: (try? String(contentsOfFile: capture, encoding: .utf8)) ?? "")
    }
}

struct ReferenceUnavailable: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Text that compresses the way personal data does: words, names, numbers, CSV and JSON.
func sampleText(_ count: Int, seed: UInt64) -> [UInt8] {
    let words = ("the customer account contact invoice meeting contract renewal support ticket privacy consent "
        + "Müller Dubois Kowalski Lindqvist Berlin Paris Warszawa erasure retention export request").split(separator: " ")
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(truncatingIfNeeded: state >> 1)
    }
    var out: [UInt8] = []
    out.reserveCapacity(count + 64)
    var line = 0
    while out.count < count {
        switch next() % 3 {
        case 0: out += Array("\(line),\(words[next() % words.count]),\(next() % 100_000),\(words[next() % words.count])@example.eu\n".utf8)
        case 1: out += Array("{\"id\": \(next() % 1_000_000), \"name\": \"\(words[next() % words.count])\", \"status\": \"open\"}\n".utf8)
        default:
            for _ in 0..<(next() % 12 + 3) { out += Array("\(words[next() % words.count]) ".utf8) }
            out.append(0x0a)
        }
        line += 1
    }
    return Array(out.prefix(count))
}
