import Foundation
import Testing
@testable import LetheRepository

/// The LZ4 block codec: against the reference implementation both ways, and the decoder
/// against malformed blocks.
@Suite struct LZ4Tests {
    /// Inputs that reach the codec's corners: empty and tiny (all literals), the end-of-block
    /// rules (lengths around 12 and 13), long runs (length extension bytes, overlapping
    /// matches), a repeat just inside and just outside the 64 KiB window, text, random bytes,
    /// and a whole maximum chunk.
    static func samples() -> [(name: String, bytes: [UInt8])] {
        var samples: [(String, [UInt8])] = [("empty", []), ("one byte", [7])]
        for count in [4, 5, 11, 12, 13, 14, 15, 16, 19, 20, 64, 255, 270, 271] {
            samples.append(("zeros \(count)", [UInt8](repeating: 0, count: count)))
            samples.append(("text \(count)", sampleText(count, seed: UInt64(count))))
        }
        samples.append(("zeros 1 MiB", [UInt8](repeating: 0, count: 1 << 20)))
        samples.append(("period 3", (0..<100_000).map { UInt8($0 % 3) }))
        let random = testBytes(70_000, seed: 9)
        samples.append(("repeat at 65535", Array(random.prefix(65_535)) + Array(random.prefix(5_000))))
        samples.append(("repeat at 70000", random + random))
        samples.append(("random 100 KiB", testBytes(100 << 10, seed: 3)))
        samples.append(("text 1 MiB", sampleText(1 << 20, seed: 1)))
        samples.append(("text then random", sampleText(30_000, seed: 2) + testBytes(30_000, seed: 4) + sampleText(30_000, seed: 5)))
        samples.append(("text 8 MiB", sampleText(BlobCompression.maximumUncompressedLength, seed: 6)))
        return samples
    }

    @Test func lethesBlocksDecodeWithTheReference() throws {
        let reference = try ReferenceLZ4()
        defer { reference.remove() }
        let samples = Self.samples()
        let blocks = try samples.map { sample in (try #require(LZ4.compress(sample.bytes)), sample.bytes.count) }
        let decoded = try reference.decompress(blocks.map { ($0.0, $0.1) })
        for (sample, output) in zip(samples, decoded) {
            #expect(output == sample.bytes, "\(sample.name): the reference decodes Lethe's block to something else")
        }
        // Compression does happen where it can: the reference decodes matches, not only literals.
        let text = try #require(samples.firstIndex { $0.name == "text 1 MiB" })
        #expect(blocks[text].0.count < samples[text].bytes.count / 2)
    }

    @Test(arguments: ["default", "fast", "high_compression"])
    func theReferencesBlocksDecodeInLethe(_ mode: String) throws {
        let reference = try ReferenceLZ4()
        defer { reference.remove() }
        let samples = Self.samples()
        let blocks = try reference.compress(samples.map(\.bytes), mode: mode)
        for (sample, block) in zip(samples, blocks) {
            #expect(try LZ4.decompress(block, uncompressedLength: sample.bytes.count) == sample.bytes, "\(sample.name), \(mode)")
        }
    }

    @Test func aBlockRoundTripsAndAnIncompressibleOneIsRefusedAtTheLimit() throws {
        for sample in Self.samples() {
            let block = try #require(LZ4.compress(sample.bytes))
            #expect(block.count <= LZ4.maximumCompressedLength(sample.bytes.count))
            #expect(try LZ4.decompress(block, uncompressedLength: sample.bytes.count) == sample.bytes, "\(sample.name)")
        }
        let random = testBytes(100_000, seed: 1)
        #expect(LZ4.compress(random, limit: 99_000) == nil)
        let text = sampleText(100_000, seed: 1)
        let block = try #require(LZ4.compress(text))
        // The compressor may keep a byte or two spare while it works, never more than the bound's slack.
        #expect(LZ4.compress(text, limit: block.count + 16) == block)
        #expect(LZ4.compress(text, limit: block.count - 1) == nil)
    }

    @Test func blobCompressionKeepsOnlyWhatSavesEnough() throws {
        let text = sampleText(200_000, seed: 8)
        let random = testBytes(200_000, seed: 8)
        try text.withUnsafeBytes { raw in
            let block = try #require(BlobCompression.standard.compress(raw))
            #expect(block.count <= 190_000)
            #expect(try LZ4.decompress(block, uncompressedLength: text.count) == text)
            #expect(BlobCompression.off.compress(raw) == nil)
            // Demanding more saving than the block gives refuses it.
            let saving = 100 - block.count * 100 / text.count
            #expect(BlobCompression(minimumSavingPercent: saving + 1).compress(raw) == nil)
            #expect(BlobCompression(minimumSavingPercent: saving - 2).compress(raw) != nil)
        }
        random.withUnsafeBytes { #expect(BlobCompression.standard.compress($0) == nil) }
        // A blob whose first 64 KiB do not shrink is not tried further.
        let incompressibleStart = testBytes(BlobCompression.probeLength, seed: 2) + sampleText(1 << 20, seed: 3)
        incompressibleStart.withUnsafeBytes { #expect(BlobCompression.standard.compress($0) == nil) }
        // Nor is one longer than a chunk (a large tree blob), nor an empty one.
        let long = [UInt8](repeating: 0, count: BlobCompression.maximumUncompressedLength + 1)
        long.withUnsafeBytes { #expect(BlobCompression.standard.compress($0) == nil) }
        [UInt8]().withUnsafeBytes { #expect(BlobCompression.standard.compress($0) == nil) }
    }

    // MARK: Malformed blocks

    @Test func everyTruncationOfABlockIsATypedError() throws {
        let text = sampleText(3_000, seed: 4)
        let block = try #require(LZ4.compress(text))
        for length in 0..<block.count {
            #expect(throws: LZ4Error.self, "prefix \(length)") {
                _ = try LZ4.decompress(Array(block.prefix(length)), uncompressedLength: text.count)
            }
        }
    }

    @Test func aWrongDeclaredLengthIsRefused() throws {
        let text = sampleText(3_000, seed: 4)
        let block = try #require(LZ4.compress(text))
        #expect(throws: LZ4Error.outputTooShort) { _ = try LZ4.decompress(block, uncompressedLength: text.count + 1) }
        #expect(throws: LZ4Error.outputTooLong) { _ = try LZ4.decompress(block, uncompressedLength: text.count - 1) }
        #expect(throws: LZ4Error.impossibleLength) { _ = try LZ4.decompress(block, uncompressedLength: -1) }
        // A few bytes cannot declare a large output: refused before anything is allocated.
        #expect(throws: LZ4Error.impossibleLength) { _ = try LZ4.decompress([0xff, 0xff], uncompressedLength: 1 << 30) }
    }

    @Test func handMadeBlocksDecodeAsTheFormatSays() throws {
        // Token 0x40: 4 literals "abcd", then the end.
        #expect(try LZ4.decompress([0x40] + Array("abcd".utf8), uncompressedLength: 4) == Array("abcd".utf8))
        // "ab", then a match of 6 at offset 2 (overlapping: ababab), then 5 literals.
        let block: [UInt8] = [0x22] + Array("ab".utf8) + [2, 0, 0x50] + Array("vwxyz".utf8)
        #expect(try LZ4.decompress(block, uncompressedLength: 13) == Array("abababab".utf8) + Array("vwxyz".utf8))
        // An empty block is a single token of no literals.
        #expect(try LZ4.decompress([0x00], uncompressedLength: 0) == [])
    }

    @Test func matchesOutsideTheOutputAreRefused() {
        // Offset 0.
        #expect(throws: LZ4Error.invalidOffset) { _ = try LZ4.decompress([0x10, 0x61, 0, 0, 0x10, 0x62], uncompressedLength: 7) }
        // Offset 2 with one byte written.
        #expect(throws: LZ4Error.invalidOffset) { _ = try LZ4.decompress([0x10, 0x61, 2, 0, 0x10, 0x62], uncompressedLength: 7) }
        // A block that ends with a match, or in its offset.
        #expect(throws: LZ4Error.truncated) { _ = try LZ4.decompress([0x10, 0x61, 1, 0], uncompressedLength: 5) }
        #expect(throws: LZ4Error.truncated) { _ = try LZ4.decompress([0x10, 0x61, 1], uncompressedLength: 5) }
        // A literal length that runs past the input.
        #expect(throws: LZ4Error.truncated) { _ = try LZ4.decompress([0xf0, 0xff, 0xff], uncompressedLength: 300) }
        #expect(throws: LZ4Error.truncated) { _ = try LZ4.decompress([], uncompressedLength: 0) }
    }

    @Test func randomBlocksDecodeToTheDeclaredLengthOrAreRefused() {
        var refused = 0
        for seed in 0..<3_000 as Range<UInt64> {
            let block = testBytes(Int(seed % 64) + 1, seed: seed)
            let length = Int(seed % 300)
            do {
                #expect(try LZ4.decompress(block, uncompressedLength: length).count == length)
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}
