import Foundation
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore

/// The fixed keys of the fuzz targets. Seeds are sealed and signed with them
/// (Tests/LetheFuzzTests/SeedGenerator.swift), so that valid objects authenticate and the
/// fuzzer starts past the cryptography; mutations of them do not, and must be refused cleanly.
/// Never used outside fuzzing and its tests.
public enum FuzzFixtures {
    public static let tenant = try! TenantID("fuzz")
    public static let dekID = "dek-00000000000000f0"

    public static func secret(_ byte: UInt8) -> SecureBytes {
        [UInt8](repeating: byte, count: 32).withUnsafeBytes { SecureBytes(copying: $0) }
    }

    public static let dek = DataEncryptionKey(tenant: tenant, id: dekID, secret: secret(0x42))
    public static let keys = try! TenantKeys(dek)

    /// The service's signing key (configuration seal, checkpoints, signed objects, reports).
    public static let serviceKey = try! ServiceSigningKey(privateKey: try Ed25519.PrivateKey(rawRepresentation: secret(0x07)))
    /// The authorizers of the seed registry: a DPO and an officer.
    public static let authorizers: [(name: String, key: Ed25519.PrivateKey)] = [
        ("dana", try! Ed25519.PrivateKey(rawRepresentation: secret(0x0d))),
        ("carl", try! Ed25519.PrivateKey(rawRepresentation: secret(0x0c))),
    ]

    /// Fixed names of the objects the sealed-object and pack targets read.
    public static let packID = PackID(bytes: [UInt8](repeating: 0x50, count: 32))
    public static let indexID = IndexID(bytes: [UInt8](repeating: 0x49, count: 32))
    public static let snapshotID = SnapshotID(bytes: [UInt8](repeating: 0x53, count: 32))
    public static let lockName = "fuzz-lock"

    /// One store and one repository for every execution: each writes the object it reads.
    public static let store = MemoryStore()
    public static let repository = try! Repository(store: store, key: dek)
}

/// An object store in memory, enough for the repository's read paths and for writing seeds.
public final class MemoryStore: ObjectStore, @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [ObjectKey: [UInt8]] = [:]

    public init() {}

    public var location: String { "memory:" }

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) throws {
        lock.withLock { objects[key] = bytes }
    }

    public func writer(for key: ObjectKey) throws -> ObjectWriter {
        Writer(store: self, key: key)
    }

    public func get(_ key: ObjectKey) throws -> [UInt8] {
        guard let bytes = lock.withLock({ objects[key] }) else { throw ObjectNotFound(key: key) }
        return bytes
    }

    public func get(_ key: ObjectKey, range: Range<Int>) throws -> [UInt8] {
        let bytes = try get(key)
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw ObjectTooShort(key: key, size: bytes.count, wanted: range)
        }
        return Array(bytes[range])
    }

    public func size(of key: ObjectKey) throws -> Int? {
        lock.withLock { objects[key]?.count }
    }

    public func list(prefix: ObjectKey) throws -> [ObjectInfo] {
        lock.withLock {
            objects.filter { $0.key == prefix || $0.key.isInside(prefix) }.map { ObjectInfo(key: $0.key, size: $0.value.count) }
        }.sorted { $0.key < $1.key }
    }

    public func children(of prefix: ObjectKey) throws -> [String] {
        let depth = prefix.rawValue.split(separator: "/").count
        return Set(try list(prefix: prefix).compactMap { object -> String? in
            let parts = object.key.rawValue.split(separator: "/")
            return parts.count > depth ? String(parts[depth]) : nil
        }).sorted()
    }

    public func delete(_ key: ObjectKey) throws {
        _ = lock.withLock { objects.removeValue(forKey: key) }
    }

    public func discardIncompleteWrites(prefix: ObjectKey) throws {}

    public func hasIncompleteWrites(prefix: ObjectKey) throws -> Bool { false }

    public func create(_ key: ObjectKey, _ bytes: [UInt8]) throws -> Bool {
        lock.withLock {
            guard objects[key] == nil else { return false }
            objects[key] = bytes
            return true
        }
    }

    public func delete(_ keys: [ObjectKey]) throws {
        for key in keys { try delete(key) }
    }

    public func versioning() throws -> Versioning { .unversioned }

    public func versions(prefix: ObjectKey) throws -> [ObjectVersion] {
        try list(prefix: prefix).map { ObjectVersion(key: $0.key, versionID: nil, isDeleteMarker: false, size: $0.size) }
    }

    public func delete(_ version: ObjectVersion) throws {
        try delete(version.key)
    }

    public func remainder(prefix: ObjectKey) throws -> [String] { [] }

    public func holds(prefix: ObjectKey) throws -> [RetentionHold] { [] }

    private final class Writer: ObjectWriter {
        let store: MemoryStore
        let key: ObjectKey
        var bytes: [UInt8] = []

        init(store: MemoryStore, key: ObjectKey) {
            self.store = store
            self.key = key
        }

        func write(_ bytes: UnsafeRawBufferPointer) throws {
            self.bytes.append(contentsOf: bytes)
        }

        func commit() throws {
            try store.put(key, bytes)
        }

        func abort() {
            bytes = []
        }
    }
}
