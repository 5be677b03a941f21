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
    /// A file's link count (`st_nlink`) when it was backed up; 1 when unknown (trees of
    /// version 1). Files with more than one link and equal `device` and `inode` in one
    /// snapshot are one file with several names, restored as hard links.
    public var links: UInt64
    /// The device of a file with more than one link (`st_dev`), so that equal inode numbers
    /// on two file systems are not taken for one file; 0 otherwise.
    public var device: UInt64

    public init(
        name: String, kind: Kind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
        modified: FileTime, changed: FileTime, inode: UInt64 = 0, size: Int = 0,
        content: [BlobID] = [], subtree: BlobID? = nil, target: String? = nil, links: UInt64 = 1, device: UInt64 = 0
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
        self.links = links
        self.device = device
    }

    /// Whether `other` is another name of this same file, as backed up: a file with several
    /// links, on the same device and inode, with the same content and metadata. (An inode
    /// reused between two reads, or a file changed between them, is two files.)
    public func isHardLink(of other: Node) -> Bool {
        kind == .file && other.kind == .file && links > 1 && other.links > 1 && device == other.device
            && inode == other.inode && size == other.size && content == other.content && mode == other.mode
            && uid == other.uid && gid == other.gid && modified == other.modified
    }
}

/// A directory listing: nodes sorted by name (bytewise), stored as a tree blob.
///
///     version 0x01 | nodeCount | per node:
///       name | kind | mode | uid | gid | mtime s (zig-zag) | mtime ns | ctime s | ctime ns | inode
///       file: size | blobCount | blob ids   directory: subtree id   symlink: target
///     version 0x02 | 0x00, or 0x01 and the directory's mode | uid | gid | mtime s | mtime ns
///       | nodeCount | per node: as version 1, a file followed by links, and device if links > 1
///
/// Version 2 is written only for a tree that needs it (a snapshot's root with its attributes,
/// or a file with several links), so a directory that did not change keeps the tree, and the
/// id, it had before version 2 existed. Both versions are read.
public struct Tree: Hashable, Sendable {
    public var nodes: [Node]
    /// The listed directory's own attributes: recorded for a snapshot's root only, as every
    /// other directory's are in its node.
    public var attributes: DirectoryAttributes?

    public init(nodes: [Node], attributes: DirectoryAttributes? = nil) {
        self.nodes = nodes.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        self.attributes = attributes
    }

    /// Whether the tree holds anything version 1 cannot say.
    private var needsVersion2: Bool {
        attributes != nil || nodes.contains { $0.kind == .file && $0.links != 1 }
    }

    /// The node whose name has exactly these UTF-8 bytes. (Swift's `==` on strings treats
    /// NFC and NFD spellings as equal; file systems do not, and neither does Lethe.)
    public func node(named name: String) -> Node? {
        nodes.first { $0.name.utf8.elementsEqual(name.utf8) }
    }

    package func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: nodes.count * 96 + 32)
        let version2 = needsVersion2
        writer.byte(version2 ? 2 : 1)
        if version2 {
            if let attributes {
                writer.byte(1)
                writer.varint(UInt64(attributes.mode))
                writer.varint(UInt64(attributes.uid))
                writer.varint(UInt64(attributes.gid))
                writer.signed(attributes.modified.seconds)
                writer.varint(UInt64(attributes.modified.nanoseconds))
            } else {
                writer.byte(0)
            }
        }
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
                if version2 {
                    writer.varint(node.links)
                    if node.links > 1 { writer.varint(node.device) }
                }
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
        let version = try reader.byte()
        guard version == 1 || version == 2 else { throw MalformedData(what: what, reason: "unknown tree version") }
        var attributes: DirectoryAttributes?
        if version == 2 {
            switch try reader.byte() {
            case 0: break
            case 1:
                attributes = DirectoryAttributes(
                    mode: UInt32(truncatingIfNeeded: try reader.varint()) & 0o7777,
                    uid: UInt32(truncatingIfNeeded: try reader.varint()), gid: UInt32(truncatingIfNeeded: try reader.varint()),
                    modified: FileTime(seconds: try reader.signed(), nanoseconds: Int32(try reader.count(limit: 999_999_999))))
            default: throw MalformedData(what: what, reason: "unknown tree attributes flag")
            }
        }
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
                if version == 2 {
                    node.links = try reader.varint()
                    if node.links > 1 { node.device = try reader.varint() }
                }
            case .directory:
                node.subtree = try reader.identifier()
            case .symlink:
                node.target = try reader.string(limit: 1 << 16)
            }
            nodes.append(node)
        }
        try reader.expectEnd()
        return Tree(nodes: nodes, attributes: attributes)
    }
}
