import Foundation

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

    /// Stores several objects, each as `put` does: atomically, and all of them durably by the
    /// time this returns. Which becomes visible first is not specified; after a failure some
    /// may be stored and others not. For many small objects at once (a tenant import's
    /// records), which one `put` each would flush one by one.
    func put(_ objects: [(key: ObjectKey, bytes: [UInt8])]) throws

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

    /// Every object whose key lies below `prefix` (never `prefix` itself), sorted by key: for a
    /// folder of objects whose own key names nothing (index files, locks, leases, tiles), where
    /// `list(prefix:)` would cost a bucket a HeadObject more for each listing.
    func list(below prefix: ObjectKey) throws -> [ObjectInfo]

    /// The names one level below `prefix` (objects and folders alike), sorted: what an S3
    /// listing with a `/` delimiter returns. Used to enumerate tenants without listing packs.
    func children(of prefix: ObjectKey) throws -> [String]

    /// Removes the object; removing an absent object succeeds.
    func delete(_ key: ObjectKey) throws

    /// Removes writes to keys under `prefix` that were started but never completed (a crash
    /// mid-`put`), which are invisible to `get` and `list` but still hold bytes.
    func discardIncompleteWrites(prefix: ObjectKey) throws

    /// True if `discardIncompleteWrites(prefix:)` would find anything: lets a prune with
    /// nothing to do write nothing.
    func hasIncompleteWrites(prefix: ObjectKey) throws -> Bool

    /// Stores `bytes` under `key` only if no object is there, atomically: of two creators,
    /// exactly one succeeds (S3: `If-None-Match: *`). Returns false when an object exists.
    /// Leases between workers rest on this.
    func create(_ key: ObjectKey, _ bytes: [UInt8]) throws -> Bool

    /// Removes several objects (S3: one `DeleteObjects` per thousand keys); absent ones succeed.
    func delete(_ keys: [ObjectKey]) throws

    // MARK: Versions, for destruction

    /// Whether the store keeps old versions of what is overwritten or deleted.
    func versioning() throws -> Versioning

    /// Every stored version and delete marker under `prefix`. A store without versioning
    /// returns each object once, with no version id.
    func versions(prefix: ObjectKey) throws -> [ObjectVersion]

    /// Removes one version or delete marker for good (S3: `DeleteObject` with a version id).
    func delete(_ version: ObjectVersion) throws

    /// What the store still holds under `prefix` besides objects and their versions, named: for a
    /// directory store, any entry left (a link, a folder). An S3 bucket holds nothing else: a
    /// prefix some S3 servers go on listing once its last object is gone names nothing stored.
    /// A destruction checks this is empty.
    func remainder(prefix: ObjectKey) throws -> [String]

    /// What would keep any version under `prefix` from being deleted: S3 Object Lock retention
    /// or a legal hold. A destruction request is refused while there is any, since it could not
    /// do what its report would claim.
    func holds(prefix: ObjectKey) throws -> [RetentionHold]
}

extension ObjectStore {
    public func list(below prefix: ObjectKey) throws -> [ObjectInfo] {
        try list(prefix: prefix).filter { $0.key != prefix }
    }

    public func exists(_ key: ObjectKey) throws -> Bool {
        try size(of: key) != nil
    }

    /// A `put` each, four at a time: a bucket has no cheaper way to make many objects durable.
    public func put(_ objects: [(key: ObjectKey, bytes: [UInt8])]) throws {
        let next = WorkCounter()
        let failure = FirstFailure()
        DispatchQueue.concurrentPerform(iterations: min(4, max(1, objects.count))) { _ in
            while !failure.happened, let index = next.take(below: objects.count) {
                do {
                    try put(objects[index].key, objects[index].bytes)
                } catch {
                    failure.record(error)
                }
            }
        }
        try failure.rethrow()
    }
}

/// The first error of several workers, which stop taking work once there is one.
final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?

    var happened: Bool { lock.withLock { error != nil } }

    func record(_ error: Error) {
        lock.withLock { if self.error == nil { self.error = error } }
    }

    func rethrow() throws {
        if let error = lock.withLock({ error }) { throw error }
    }
}

/// Whether a store keeps old versions of objects.
public enum Versioning: String, Codable, Sendable {
    /// Overwrites and deletes are final (the local store; an S3 bucket never versioned).
    case unversioned
    /// Every overwrite and delete keeps the previous version.
    case enabled
    /// Versioning was enabled once: versions made then remain, new writes make none.
    case suspended
}

/// One stored version of an object, or a delete marker.
public struct ObjectVersion: Hashable, Sendable {
    public let key: ObjectKey
    /// The store's version id; nil on a store without versions (the object itself).
    public let versionID: String?
    public let isDeleteMarker: Bool
    public let size: Int

    public init(key: ObjectKey, versionID: String?, isDeleteMarker: Bool, size: Int) {
        self.key = key
        self.versionID = versionID
        self.isDeleteMarker = isDeleteMarker
        self.size = size
    }
}

/// A version the store will not delete yet, and why.
public struct RetentionHold: Equatable, Sendable, CustomStringConvertible {
    public let version: ObjectVersion
    /// "COMPLIANCE retention until 2027-01-01T00:00:00Z", "legal hold", "bucket default retention 30 days".
    public let reason: String

    public init(version: ObjectVersion, reason: String) {
        self.version = version
        self.reason = reason
    }

    public var description: String {
        "\(version.key)" + (version.versionID.map { " (version \($0))" } ?? "") + ": \(reason)"
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

    public init(key: ObjectKey, size: Int, wanted: Range<Int>) {
        self.key = key
        self.size = size
        self.wanted = wanted
    }

    public var description: String {
        "object \(key) is truncated: it has \(size) bytes, bytes \(wanted.lowerBound)..<\(wanted.upperBound) were expected"
    }
}
