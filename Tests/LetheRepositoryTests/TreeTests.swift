import LetheStore
import Testing
@testable import LetheRepository

@Suite struct TreeTests {
    let id = BlobID(bytes: [UInt8](repeating: 7, count: 32))
    let other = BlobID(bytes: [UInt8](repeating: 9, count: 32))

    func node(_ name: String, _ kind: Node.Kind) -> Node {
        var node = Node(
            name: name, kind: kind, mode: 0o4750, uid: 1000, gid: 100,
            modified: FileTime(seconds: -5, nanoseconds: 999_999_999),
            changed: FileTime(seconds: 1_700_000_000, nanoseconds: 1), inode: UInt64.max)
        switch kind {
        case .file: node.size = 12; node.content = [id, other, id]
        case .directory: node.subtree = other
        case .symlink: node.target = "../ziel/ü"
        }
        return node
    }

    @Test func allThreeKindsRoundTripWithNonASCIINames() throws {
        var empty = node("leer", .file)
        empty.size = 0
        empty.content = []
        let tree = Tree(nodes: [
            node("zeta", .file), node("Ärger", .directory), node("a b", .symlink), node("日本語.txt", .file), empty,
        ])
        let bytes = tree.encoded()
        let decoded = try Tree.decode(bytes, what: "t")
        #expect(decoded == tree)
        #expect(decoded.encoded() == bytes)
        #expect(decoded.node(named: "Ärger")?.subtree == other)
        #expect(decoded.node(named: "a b")?.target == "../ziel/ü")
        #expect(decoded.node(named: "zeta")?.content == [id, other, id])
        #expect(decoded.node(named: "zeta")?.modified == FileTime(seconds: -5, nanoseconds: 999_999_999))
        #expect(decoded.node(named: "zeta")?.inode == UInt64.max)
        #expect(decoded.node(named: "zeta")?.mode == 0o4750)
        #expect(try Tree.decode(Tree(nodes: []).encoded(), what: "t").nodes.isEmpty)
    }

    @Test func nodesAreSortedByNameBytes() {
        // "e\u{301}" (NFD é, bytes 65 cc 81) sorts before "f" bytewise, though Swift's String
        // order puts it after; a tree must follow the bytes.
        let names = ["zeta", "Ärger", "a b", "日本", "f", "e\u{301}", "B", "a"]
        let tree = Tree(nodes: names.map { node($0, .symlink) })
        let sorted = tree.nodes.map { Array($0.name.utf8) }
        #expect(sorted == names.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(tree.nodes.map(\.name).first == "B")
    }

    @Test func theEncodingIsTheOneDocumented() {
        let node = Node(
            name: "a", kind: .symlink, mode: 0o777, modified: FileTime(seconds: -1, nanoseconds: 5),
            changed: FileTime(seconds: 0, nanoseconds: 0), target: "b")
        #expect(Tree(nodes: [node]).encoded() == [1, 1, 1, 0x61, 3, 0xff, 0x03, 0, 0, 1, 5, 0, 0, 0, 1, 0x62])
    }

    @Test(arguments: ["", ".", "..", "a/b", "/", "../x"])
    func decodeRejectsNamesThatCouldEscapeTheTarget(_ name: String) throws {
        var bad = node("x", .file)
        bad.name = name
        let bytes = Tree(nodes: [node("ok", .file), bad]).encoded()
        let error = #expect(throws: MalformedData.self) { _ = try Tree.decode(bytes, what: "tree x") }
        #expect(error?.what == "tree x")
    }

    @Test func decodeRejectsAnUnknownVersion() {
        var bytes = Tree(nodes: [node("x", .file)]).encoded()
        for version: UInt8 in [0, 3, 9, 0xff] {
            bytes[0] = version
            #expect(throws: MalformedData.self) { _ = try Tree.decode(bytes, what: "t") }
        }
    }

    @Test func decodeRejectsAnUnknownNodeKind() {
        var bytes = Tree(nodes: [node("x", .symlink)]).encoded()
        #expect(bytes[4] == Node.Kind.symlink.rawValue)
        bytes[4] = 4
        #expect(throws: MalformedData.self) { _ = try Tree.decode(bytes, what: "t") }
    }

    @Test func decodeRejectsTrailingBytesAndEveryTruncation() {
        let bytes = Tree(nodes: [node("a", .file), node("b", .directory), node("c", .symlink)]).encoded()
        #expect(throws: MalformedData.self) { _ = try Tree.decode(bytes + [0], what: "t") }
        for length in 0..<bytes.count {
            #expect(throws: MalformedData.self, "length \(length)") { _ = try Tree.decode(Array(bytes.prefix(length)), what: "t") }
        }
    }
}
