import LetheStore
import Testing
@testable import LetheRepository

@Suite struct BinaryCodingTests {
    @Test func varintsAndSignedValuesRoundTrip() throws {
        var writer = ByteWriter()
        let unsigned: [UInt64] = [0, 1, 127, 128, 300, 1 << 35, UInt64.max]
        let signed: [Int64] = [0, -1, 1, Int64.min, Int64.max, -1_000_000]
        for value in unsigned { writer.varint(value) }
        for value in signed { writer.signed(value) }
        var reader = ByteReader(writer.bytes, what: "test")
        for value in unsigned { #expect(try reader.varint() == value) }
        for value in signed { #expect(try reader.signed() == value) }
        try reader.expectEnd()
    }

    @Test func malformedInputThrowsInsteadOfTrapping() {
        var truncated = ByteReader([0x80, 0x80], what: "t")
        #expect(throws: MalformedData.self) { _ = try truncated.varint() }
        var overlong = ByteReader([UInt8](repeating: 0xFF, count: 11) + [0], what: "t")
        #expect(throws: MalformedData.self) { _ = try overlong.varint() }
        var lying = ByteReader([0x10, 1, 2], what: "t")
        #expect(throws: MalformedData.self) { _ = try lying.data() }
        var short = ByteReader([UInt8](repeating: 0, count: 31), what: "t")
        #expect(throws: MalformedData.self) { let _: BlobID = try short.identifier() }
    }
}

@Suite struct TreeTests {
    let id = BlobID(bytes: [UInt8](repeating: 7, count: 32))

    func node(_ name: String, _ kind: Node.Kind) -> Node {
        var node = Node(name: name, kind: kind, mode: 0o640, uid: 1000, gid: 100,
                        modified: FileTime(seconds: -5, nanoseconds: 999_999_999), changed: FileTime(seconds: 1_700_000_000, nanoseconds: 1), inode: 42)
        switch kind {
        case .file: node.size = 12; node.content = [id, id]
        case .directory: node.subtree = id
        case .symlink: node.target = "../ziel/ü"
        }
        return node
    }

    @Test func encodeDecodeRoundTripSortedByNameBytes() throws {
        let tree = Tree(nodes: [node("zeta", .file), node("Ärger", .directory), node("a b", .symlink), node("日本", .file)])
        #expect(tree.nodes.map(\.name) == ["a b", "zeta", "Ärger", "日本"])
        #expect(try Tree.decode(tree.encoded(), what: "t") == tree)
    }

    @Test(arguments: ["", ".", "..", "a/b"])
    func decodeRejectsNamesThatCouldEscapeTheTarget(_ name: String) throws {
        var bad = node("x", .file)
        bad.name = name
        let bytes = Tree(nodes: [bad]).encoded()
        #expect(throws: MalformedData.self) { _ = try Tree.decode(bytes, what: "t") }
    }

    @Test func decodeRejectsAnUnknownVersion() {
        var bytes = Tree(nodes: [node("x", .file)]).encoded()
        bytes[0] = 9
        #expect(throws: MalformedData.self) { _ = try Tree.decode(bytes, what: "t") }
    }
}
