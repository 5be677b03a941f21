import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct ChunkStreamTests {
    let fixture = try! RepositoryFixture()

    /// The chunks' concatenation and their lengths.
    func chunks(of file: OwnedFile, _ chunker: Chunker) throws -> (joined: [UInt8], lengths: [Int]) {
        let stream = ChunkStream(chunker: chunker)
        stream.reset(file)
        var joined: [UInt8] = []
        var lengths: [Int] = []
        while try stream.next({ joined.append(contentsOf: $0); lengths.append($0.count) }) {}
        return (joined, lengths)
    }

    @Test func chunksOfAFileConcatenateToTheFile() throws {
        let chunker = try fixture.repository("acme").chunker
        let data = testBytes(20 << 20 + 12345, seed: 5)
        let path = "\(fixture.root)/input"
        try FileSystem.writeAtomically(data, to: path)
        let chunks = try chunks(of: try OwnedFile(path: path, flags: O_RDONLY), chunker)
        #expect(chunks.lengths.count > 1)
        #expect(chunks.joined == data)
        // The read buffer does not move boundaries: they are those of the whole input.
        #expect(chunks.lengths == ChunkerTests.cuts(chunker, data))
    }

    @Test func anEmptyFileHasNoChunks() throws {
        let path = "\(fixture.root)/empty"
        try FileSystem.writeAtomically([], to: path)
        #expect(try chunks(of: try OwnedFile(path: path, flags: O_RDONLY), try fixture.repository("acme").chunker).lengths.isEmpty)
    }

    @Test func aPipeDeliveringSmallPiecesYieldsTheSameChunksAsTheFile() throws {
        let chunker = try fixture.repository("acme").chunker
        let data = testBytes(11 << 20 + 3, seed: 6)
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let reader = try OwnedFile(adopting: ends[0], path: "pipe")
        let writeEnd = ends[1]
        let writer = Thread {
            let out = try! OwnedFile(adopting: writeEnd, path: "pipe")
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let end = min(raw.count, offset + 3000)
                    try! out.write(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                    offset = end
                }
            }
            try! out.close()
        }
        writer.start()
        let chunks = try chunks(of: reader, chunker)
        #expect(chunks.joined == data)
        #expect(chunks.lengths == ChunkerTests.cuts(chunker, data))
    }

    /// `bytesRead` is documented as "total bytes read from the current input so far".
    @Test func aStreamIsReusableForTheNextFileAndCountsItsBytesAfresh() throws {
        let chunker = try fixture.repository("acme").chunker
        let stream = ChunkStream(chunker: chunker)
        for (index, size) in [9 << 20, 1000].enumerated() {
            let data = testBytes(size, seed: UInt64(index))
            let path = "\(fixture.root)/f\(index)"
            try FileSystem.writeAtomically(data, to: path)
            stream.reset(try OwnedFile(path: path, flags: O_RDONLY))
            var joined: [UInt8] = []
            while try stream.next({ joined.append(contentsOf: $0) }) {}
            #expect(joined == data)
            #expect(stream.bytesRead == size, "bytesRead after reading input \(index)")
        }
    }
}
