/// Where encrypted objects live: the source of truth for everything Lethe needs to restore,
/// to report and to audit.
///
/// The contract is what an S3-compatible bucket offers, so that a remote backend can replace
/// the local one without touching callers: whole-object atomic `put` (readers see the old
/// object or the new one), `get` of a whole object or a byte range, listing by prefix, and
/// idempotent `delete`. Nothing relies on directories, renames or appends.
public protocol ObjectStore: Sendable {
    /// Where the store is, for reports and messages (`file:///srv/lethe/store`).
    var location: String { get }

    /// Stores `bytes` under `key`, replacing any object there, atomically and durably.
    func put(_ key: ObjectKey, _ bytes: [UInt8]) throws

    /// Starts writing `key` piece by piece (a pack, without holding it all in memory); the
    /// object appears, whole, only at `commit()`. An S3 backend maps this to a multipart upload.
    func writer(for key: ObjectKey) throws -> ObjectWriter

    /// The whole object. Throws `ObjectNotFound` if there is none.
    func get(_ key: ObjectKey) throws -> [UInt8]

    /// `range` of the object's bytes. Throws `ObjectNotFound`, or `ObjectTooShort` when the
    /// object ends before the range does.
    func get(_ key: ObjectKey, range: Range<Int>) throws -> [UInt8]

    /// Size of the object, or nil if there is none.
    func size(of key: ObjectKey) throws -> Int?

    /// Every object whose key is `prefix` or lies below it, sorted by key.
    func list(prefix: ObjectKey) throws -> [ObjectInfo]

    /// The names one level below `prefix` (objects and folders alike), sorted: what an S3
    /// listing with a `/` delimiter returns. Used to enumerate tenants without listing packs.
    func children(of prefix: ObjectKey) throws -> [String]

    /// Removes the object; removing an absent object succeeds.
    func delete(_ key: ObjectKey) throws

    /// Removes writes to keys under `prefix` that were started but never completed (a crash
    /// mid-`put`), which are invisible to `get` and `list` but still hold bytes.
    func discardIncompleteWrites(prefix: ObjectKey) throws
}

extension ObjectStore {
    public func exists(_ key: ObjectKey) throws -> Bool {
        try size(of: key) != nil
    }
}

/// An object being written in pieces. Nothing is visible under its key until `commit()`;
/// a writer released without `commit()` discards what it wrote.
public protocol ObjectWriter: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Makes the object durable and visible under its key.
    func commit() throws
    /// Discards what was written.
    func abort()
}

extension ObjectWriter {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// One object in a listing.
public struct ObjectInfo: Hashable, Sendable {
    public let key: ObjectKey
    public let size: Int

    public init(key: ObjectKey, size: Int) {
        self.key = key
        self.size = size
    }
}

public struct ObjectNotFound: Error, Equatable, Sendable, CustomStringConvertible {
    public let key: ObjectKey
    public init(key: ObjectKey) { self.key = key }
    public var description: String { "object \(key) is missing from the store" }
}

public struct ObjectTooShort: Error, Equatable, Sendable, CustomStringConvertible {
    public let key: ObjectKey
    public let size: Int
    public let wanted: Range<Int>
    public var description: String {
        "object \(key) is truncated: it has \(size) bytes, bytes \(wanted.lowerBound)..<\(wanted.upperBound) were expected"
    }
}
