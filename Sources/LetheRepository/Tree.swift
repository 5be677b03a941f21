/// A file time: seconds since 1970 and nanoseconds.
public struct FileTime: Hashable, Sendable, Codable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// One entry of a directory listing in a snapshot.
public struct Node: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        case file = 1
        case directory = 2
        case symlink = 3
    }

    public var name: String
    public var kind: Kind
    /// Permission bits, including setuid, setgid and sticky (`st_mode & 0o7777`).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var modified: FileTime
    /// Status-change time and inode: not restored, only compared, to tell whether a file may
    /// have changed since the previous snapshot without reading it.
    public var changed: FileTime
    public var inode: UInt64
    /// File size in bytes (0 for other kinds).
    public var size: Int
    /// File content, in order.
    public var content: [BlobID]
    /// Directory listing.
    public var subtree: BlobID?
    /// Symbolic link target.
    public var target: String?

    public init(
        name: String, kind: Kind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
        modified: FileTime, changed: FileTime, inode: UInt64 = 0, size: Int = 0,
        content: [BlobID] = [], subtree: BlobID? = nil, target: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.modified = modified
        self.changed = changed
        self.inode = inode
        self.size = size
        self.content = content
        self.subtree = subtree
        self.target = target
    }
}

/// A directory listing: nodes sorted by name (bytewise), stored as a tree blob.
///
///     version 0x01 | nodeCount | per node:
///       name | kind | mode | uid | gid | mtime s (zig-zag) | mtime ns | ctime s | ctime ns | inode
///       file: size | blobCount | blob ids   directory: subtree id   symlink: target
public struct Tree: Hashable, Sendable {
    public var nodes: [Node]

    public init(nodes: [Node]) {
        self.nodes = nodes.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The node whose name has exactly these UTF-8 bytes. (Swift's `==` on strings treats
    /// NFC and NFD spellings as equal; file systems do not, and neither does Lethe.)
    public func node(named name: String) -> Node? {
        nodes.first { $0.name.utf8.elementsEqual(name.utf8) }
    }

    package func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: nodes.count * 96 + 8)
        writer.byte(1)
        writer.varint(nodes.count)
        for node in nodes {
            writer.string(node.name)
            writer.byte(node.kind.rawValue)
            writer.varint(UInt64(node.mode))
            writer.varint(UInt64(node.uid))
            writer.varint(UInt64(node.gid))
            writer.signed(node.modified.seconds)
            writer.varint(UInt64(node.modified.nanoseconds))
            writer.signed(node.changed.seconds)
            writer.varint(UInt64(node.changed.nanoseconds))
            writer.varint(node.inode)
            switch node.kind {
            case .file:
                writer.varint(node.size)
                writer.varint(node.content.count)
                for id in node.content { writer.identifier(id) }
            case .directory:
                writer.identifier(node.subtree!)
            case .symlink:
                writer.string(node.target ?? "")
            }
        }
        return writer.bytes
    }

    package static func decode(_ bytes: [UInt8], what: String) throws -> Tree {
        var reader = ByteReader(bytes, what: what)
        guard try reader.byte() == 1 else { throw MalformedData(what: what, reason: "unknown tree version") }
        // A node is at least 12 bytes: a 1-byte name and its length, the kind, nine varints.
        let count = try reader.count(limit: 1 << 24, elementsOfAtLeast: 12)
        var nodes: [Node] = []
        nodes.reserveCapacity(count)
        for _ in 0..<count {
            let name = try reader.string(limit: 4096)
            guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
                throw MalformedData(what: what, reason: "invalid file name \"\(name)\"")
            }
            guard let kind = Node.Kind(rawValue: try reader.byte()) else { throw MalformedData(what: what, reason: "unknown node kind") }
            let mode = UInt32(truncatingIfNeeded: try reader.varint()) & 0o7777
            let uid = UInt32(truncatingIfNeeded: try reader.varint())
            let gid = UInt32(truncatingIfNeeded: try reader.varint())
            // Nanoseconds are below 10⁹: anything else is no time a file system gives, and
            // would neither be restored nor encoded again.
            let modified = FileTime(seconds: try reader.signed(), nanoseconds: Int32(try reader.count(limit: 999_999_999)))
            let changed = FileTime(seconds: try reader.signed(), nanoseconds: Int32(try reader.count(limit: 999_999_999)))
            let inode = try reader.varint()
            var node = Node(name: name, kind: kind, mode: mode, uid: uid, gid: gid, modified: modified, changed: changed, inode: inode)
            switch kind {
            case .file:
                node.size = try reader.count(limit: Int.max)
                let blobs = try reader.count(limit: 1 << 24, elementsOfAtLeast: 32)
                node.content.reserveCapacity(blobs)
                for _ in 0..<blobs { node.content.append(try reader.identifier()) }
            case .directory:
                node.subtree = try reader.identifier()
            case .symlink:
                node.target = try reader.string(limit: 1 << 16)
            }
            nodes.append(node)
        }
        try reader.expectEnd()
        return Tree(nodes: nodes)
    }
}
