import Foundation
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct ChunkerTests {
    let fixture = try! RepositoryFixture()

    func cuts(_ chunker: Chunker, _ data: [UInt8]) -> [Int] {
        var lengths: [Int] = []
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(raw.count, offset + Chunker.maximumSize)
                let length = chunker.cut(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                lengths.append(length)
                offset += length
            }
        }
        return lengths
    }

    @Test func chunksRespectTheBoundsAndAverageAroundOneMebibyte() throws {
        let chunker = try fixture.repository("acme").chunker
        let data = testBytes(64 << 20, seed: 1)
        let lengths = cuts(chunker, data)
        #expect(lengths.reduce(0, +) == data.count)
        #expect(lengths.dropLast().allSatisfy { $0 >= Chunker.minimumSize && $0 <= Chunker.maximumSize })
        let average = Double(data.count) / Double(lengths.count)
        #expect(average > 0.75 * Double(1 << 20) && average < 2.0 * Double(1 << 20), "average \(average)")
        #expect(cuts(chunker, data) == lengths, "deterministic")
    }

    @Test func anInsertionMovesOnlyNearbyBoundaries() throws {
        let chunker = try fixture.repository("acme").chunker
        let data = testBytes(24 << 20, seed: 2)
        var edited = data
        edited.insert(contentsOf: [UInt8](repeating: 0x42, count: 100), at: 1000)
        func boundaries(_ lengths: [Int]) -> [Int] { lengths.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) } }
        let before = Set(boundaries(cuts(chunker, data)).map { $0 + 100 })
        let after = boundaries(cuts(chunker, edited))
        let shared = after.filter(before.contains)
        #expect(shared.count >= after.count - 2, "\(shared.count) of \(after.count) boundaries survive")
    }

    @Test func twoTenantsCutTheSameDataDifferently() throws {
        let data = testBytes(16 << 20, seed: 3)
        let a = cuts(try fixture.repository("a").chunker, data)
        let b = cuts(try fixture.repository("b").chunker, data)
        #expect(a != b)
    }

    @Test func smallInputIsOneChunk() throws {
        let chunker = try fixture.repository("acme").chunker
        #expect(cuts(chunker, testBytes(1000, seed: 4)) == [1000])
    }

    @Test func chunkStreamReassemblesAFileExactly() throws {
        let data = testBytes(20 << 20 + 12345, seed: 5)
        let path = "\(fixture.root)/input"
        try FileSystem.writeAtomically(data, to: path)
        let stream = ChunkStream(chunker: try fixture.repository("acme").chunker)
        stream.reset(try OwnedFile(path: path, flags: O_RDONLY))
        var joined: [UInt8] = []
        while try stream.next({ joined.append(contentsOf: $0) }) {}
        #expect(joined == data)
    }
}
