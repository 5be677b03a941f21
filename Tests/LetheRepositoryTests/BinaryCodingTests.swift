import LetheStore
import Testing
@testable import LetheRepository

@Suite struct BinaryCodingTests {
    func encoded(_ body: (inout ByteWriter) -> Void) -> [UInt8] {
        var writer = ByteWriter()
        body(&writer)
        return writer.bytes
    }

    @Test func varintsAreUnsignedLEB128() {
        #expect(encoded { $0.varint(UInt64(0)) } == [0])
        #expect(encoded { $0.varint(UInt64(127)) } == [0x7f])
        #expect(encoded { $0.varint(UInt64(128)) } == [0x80, 0x01])
        #expect(encoded { $0.varint(UInt64(300)) } == [0xac, 0x02])
        #expect(encoded { $0.varint(UInt64.max) } == [UInt8](repeating: 0xff, count: 9) + [0x01])
    }

    @Test func signedValuesAreZigZagEncoded() {
        #expect(encoded { $0.signed(0) } == [0])
        #expect(encoded { $0.signed(-1) } == [1])
        #expect(encoded { $0.signed(1) } == [2])
        #expect(encoded { $0.signed(-2) } == [3])
        #expect(encoded { $0.signed(Int64.min) } == encoded { $0.varint(UInt64.max) })
        #expect(encoded { $0.signed(Int64.max) } == encoded { $0.varint(UInt64.max - 1) })
    }

    @Test func everyKindOfFieldRoundTrips() throws {
        let unsigned: [UInt64] = [0, 1, 127, 128, 300, 16383, 16384, 1 << 35, UInt64(Int64.max), UInt64.max - 1, UInt64.max]
        let signed: [Int64] = [0, -1, 1, 63, -64, 64, -65, Int64.min, Int64.min + 1, Int64.max, Int64.max - 1, -1_000_000]
        let id = BlobID(bytes: (0..<32).map { UInt8($0) })
        let bytes = encoded { writer in
            for value in unsigned { writer.varint(value) }
            for value in signed { writer.signed(value) }
            writer.identifier(id)
            writer.data([0, 255, 7])
            writer.data([UInt8]())
            writer.string("Grüße, 日本 🗂")
            writer.byte(0xAB)
        }
        var reader = ByteReader(bytes, what: "test")
        for value in unsigned { #expect(try reader.varint() == value) }
        for value in signed { #expect(try reader.signed() == value) }
        #expect(try reader.identifier() == id)
        #expect(try reader.data() == [0, 255, 7])
        #expect(try reader.data() == [])
        #expect(try reader.string() == "Grüße, 日本 🗂")
        #expect(try reader.byte() == 0xAB)
        #expect(reader.isAtEnd)
        try reader.expectEnd()
    }

    @Test func truncatedInputThrowsMalformedData() {
        var varint = ByteReader([0x80, 0x80], what: "t")
        #expect(throws: MalformedData.self) { _ = try varint.varint() }
        var empty = ByteReader([], what: "t")
        #expect(throws: MalformedData.self) { _ = try empty.byte() }
        var identifier = ByteReader([UInt8](repeating: 0, count: 31), what: "t")
        #expect(throws: MalformedData.self) { let _: BlobID = try identifier.identifier() }
        var signed = ByteReader([0xff], what: "t")
        #expect(throws: MalformedData.self) { _ = try signed.signed() }
    }

    @Test func overlongVarintsThrowMalformedData() {
        var allOnes = ByteReader([UInt8](repeating: 0xff, count: 11) + [0], what: "t")
        #expect(throws: MalformedData.self) { _ = try allOnes.varint() }
        var paddedZero = ByteReader([UInt8](repeating: 0x80, count: 10) + [0], what: "t")
        #expect(throws: MalformedData.self) { _ = try paddedZero.varint() }
        var endless = ByteReader([UInt8](repeating: 0x80, count: 100), what: "t")
        #expect(throws: MalformedData.self) { _ = try endless.varint() }
    }

    @Test func aLengthPrefixLargerThanWhatRemainsThrowsMalformedData() {
        var lying = ByteReader([0x10, 1, 2], what: "t")
        #expect(throws: MalformedData.self) { _ = try lying.data() }
        var huge = ByteReader([0xff, 0xff, 0xff, 0xff, 0x0f, 1], what: "t")
        #expect(throws: MalformedData.self) { _ = try huge.data() }
        var maximal = ByteReader([UInt8](repeating: 0xff, count: 9) + [0x01], what: "t")
        #expect(throws: MalformedData.self) { _ = try maximal.data(limit: Int.max) }
        var overLimit = ByteReader([0x05, 1, 2, 3, 4, 5], what: "t")
        #expect(throws: MalformedData.self) { _ = try overLimit.data(limit: 4) }
    }

    @Test func countsBeyondTheirLimitThrowMalformedData() {
        var tooMany = ByteReader([0x80, 0x80, 0x80, 0x80, 0x10], what: "t")
        #expect(throws: MalformedData.self) { _ = try tooMany.count() }
        var maximal = ByteReader([UInt8](repeating: 0xff, count: 9) + [0x01], what: "t")
        #expect(throws: MalformedData.self) { _ = try maximal.count(limit: Int.max) }
    }

    @Test func invalidUTF8AndTrailingBytesThrowMalformedData() {
        var latin1 = ByteReader([0x02, 0xc3, 0x28], what: "t")
        #expect(throws: MalformedData.self) { _ = try latin1.string() }
        var trailing = ByteReader([0x01, 0x02], what: "t")
        _ = try? trailing.byte()
        #expect(throws: MalformedData.self) { try trailing.expectEnd() }
    }

    @Test func errorsNameWhatWasBeingRead() {
        var reader = ByteReader([], what: "tree 1234abcd")
        let error = #expect(throws: MalformedData.self) { _ = try reader.byte() }
        #expect(error?.what == "tree 1234abcd")
        #expect(error?.description.contains("tree 1234abcd") == true)
    }

    // MARK: Index files

    func sampleIndex() -> IndexContents {
        let pack = PackID(bytes: [UInt8](repeating: 0xAA, count: 32))
        let entries = (0..<3).map { i in
            PackEntry(id: BlobID(bytes: [UInt8](repeating: UInt8(i), count: 32)), location: BlobLocation(
                pack: pack, type: i == 2 ? .tree : .data, flags: 0, offset: 8 + i * 116, sealedLength: 116, plainLength: 100))
        }
        return IndexContents(packs: [.init(id: pack, size: 8 + 3 * 116 + 200, entries: entries)])
    }

    @Test func indexContentsRoundTrip() throws {
        let index = sampleIndex()
        #expect(try IndexContents.decode(index.encoded(), what: "i") == index)
        #expect(try IndexContents.decode(IndexContents().encoded(), what: "i") == IndexContents())
    }

    @Test func everyTruncationOfAnIndexThrowsMalformedData() {
        let bytes = sampleIndex().encoded()
        for length in 0..<bytes.count {
            #expect(throws: MalformedData.self, "length \(length)") { _ = try IndexContents.decode(Array(bytes.prefix(length)), what: "i") }
        }
    }

    @Test func packHeaderLengthsMustAgree() {
        var header = ByteWriter()
        header.varint(1)
        header.byte(BlobType.data.rawValue)
        header.byte(0)
        header.identifier(BlobID(bytes: [UInt8](repeating: 1, count: 32)))
        header.varint(8)
        header.varint(117)
        header.varint(100)
        let pack = PackID(bytes: [UInt8](repeating: 2, count: 32))
        #expect(throws: MalformedData.self) { _ = try Pack.decodeHeader(header.bytes, pack: pack, what: "p") }
    }
}
