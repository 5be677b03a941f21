import LetheStore
import Testing
@testable import LetheRepository

@Suite struct ChunkerTests {
    let fixture = try! RepositoryFixture()

    /// The chunk lengths `chunker` cuts `data` into, feeding it at most a maximum chunk at a
    /// time as `ChunkStream` does.
    static func cuts(_ chunker: Chunker, _ data: [UInt8]) -> [Int] {
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

    /// Chunk end offsets.
    static func boundaries(_ lengths: [Int]) -> [Int] {
        lengths.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) }
    }

    @Test func theSameGearCutsTheSameDataTheSameWay() throws {
        let data = testBytes(20 << 20, seed: 11)
        let first = try fixture.repository("acme")
        let again = try fixture.repository("acme")
        let lengths = Self.cuts(first.chunker, data)
        #expect(Self.cuts(first.chunker, data) == lengths)
        #expect(Self.cuts(again.chunker, data) == lengths, "a reopened repository derives the same gear")
        #expect(Self.cuts(Chunker(gear: first.keys.gear), data) == lengths)
        #expect(lengths.count > 3)
    }

    @Test func chunksRespectTheBoundsAndAverageAroundOneMebibyte() throws {
        let chunker = try fixture.repository("acme").chunker
        let data = testBytes(64 << 20, seed: 1)
        let lengths = Self.cuts(chunker, data)
        #expect(lengths.reduce(0, +) == data.count)
        #expect(lengths.dropLast().allSatisfy { $0 >= Chunker.minimumSize }, "only the last chunk may be short")
        #expect(lengths.allSatisfy { $0 <= Chunker.maximumSize })
        let average = Double(data.count) / Double(lengths.count)
        #expect(average > 0.75 * Double(1 << 20) && average < 2.0 * Double(1 << 20), "average \(average)")
    }

    @Test func aGearThatNeverMatchesCutsAtExactlyTheMaximum() {
        // With every entry c = 2^63 + 1, h_n = 2^63 + 2^n - 1 until it settles at 2^63 - 1:
        // some of the top 18 bits are always set, so there is no cut point anywhere.
        let chunker = Chunker(gear: [UInt64](repeating: 1 << 63 | 1, count: 256))
        let data = testBytes(20 << 20, seed: 3)
        #expect(Self.cuts(chunker, data) == [8 << 20, 8 << 20, 4 << 20])
    }

    @Test func aGearThatAlwaysMatchesStillCutsNothingBeforeTheMinimum() {
        // h stays 0: the first byte hashed is a cut point.
        let chunker = Chunker(gear: [UInt64](repeating: 0, count: 256))
        let data = testBytes(3 << 20, seed: 4)
        let lengths = Self.cuts(chunker, data)
        #expect(lengths.dropLast().allSatisfy { $0 == Chunker.minimumSize + 1 })
        #expect(lengths.reduce(0, +) == data.count)
    }

    @Test func inputUpToTheMinimumIsOneChunk() throws {
        let chunker = try fixture.repository("acme").chunker
        #expect(Self.cuts(chunker, testBytes(1000, seed: 4)) == [1000])
        #expect(Self.cuts(chunker, testBytes(Chunker.minimumSize, seed: 5)) == [Chunker.minimumSize])
        #expect(Self.cuts(chunker, []) == [])
    }

    @Test func anInsertionNearTheStartChangesOnlyTheFirstChunks() throws {
        let chunker = try fixture.repository("acme").chunker
        let data = testBytes(32 << 20, seed: 2)
        var edited = data
        edited.insert(contentsOf: testBytes(100, seed: 99), at: 1000)
        let before = Self.boundaries(Self.cuts(chunker, data)).map { $0 + 100 }
        let after = Self.boundaries(Self.cuts(chunker, edited))
        #expect(before.count > 10)
        // Some k ≤ 2: every boundary after the first k is the old one, shifted by 100.
        let resynchronised = (0...2).first { Array(after.dropFirst($0)) == Array(before.dropFirst($0)) }
        #expect(resynchronised != nil, "before \(before.prefix(4)), after \(after.prefix(4))")
    }

    @Test func twoTenantsCutTheSameDataDifferently() throws {
        let data = testBytes(16 << 20, seed: 3)
        let a = try fixture.repository("a")
        let b = try fixture.repository("b")
        #expect(a.keys.gear != b.keys.gear)
        #expect(Self.cuts(a.chunker, data) != Self.cuts(b.chunker, data))
    }
}
