import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// The tamper-evident log of every operation: an RFC 9162 Merkle tree whose leaves are the
/// entries, with a checkpoint signed by the service key after every append.
///
/// Store layout (plain JSON and text, readable by an auditor with the public key alone):
///
///     audit/entries/<index, 20 digits>       one canonical-JSON entry per leaf
///     audit/checkpoints/<size, 20 digits>    every signed checkpoint ever issued
///
/// Appends are serialized across processes by `<home>/locks/audit.lock`. The size and root
/// last seen on this host are kept in `<home>/audit-head` so that a log cut short in the store
/// (entries and checkpoints deleted together) is still detected here.
public final class AuditLog: @unchecked Sendable {
    private let store: ObjectStore
    private let home: Home
    public let origin: String

    public init(store: ObjectStore, home: Home, installationID: String) {
        self.store = store
        self.home = home
        origin = "lethe.local/\(installationID)"
    }

    static func entryKey(_ index: Int) -> ObjectKey { try! ObjectKey("audit/entries/\(padded(index))") }
    static func checkpointKey(_ size: Int) -> ObjectKey { try! ObjectKey("audit/checkpoints/\(padded(size))") }
    static let entriesPrefix = try! ObjectKey("audit/entries")
    static let checkpointsPrefix = try! ObjectKey("audit/checkpoints")
    /// The tree's right edge after the last append (derived data, never trusted for
    /// verification: `verify` recomputes everything from the entries).
    static let frontierKey = try! ObjectKey("audit/frontier.json")

    private static func padded(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// A new entry to append.
    public struct Event: Sendable {
        public let operation: String
        public let tenant: String?
        public let details: [String: String]

        public init(_ operation: String, tenant: String?, details: [String: String] = [:]) {
            self.operation = operation
            self.tenant = tenant
            self.details = details
        }
    }

    /// Appends `events` as consecutive leaves and signs one checkpoint over the new tree.
    /// Returns the appended entries and the checkpoint.
    @discardableResult
    public func append(_ events: [Event], actor: String, time: String, key: ServiceSigningKey) throws -> ([AuditEntry], Checkpoint) {
        try FileSystem.makeDirectories(home.locksDirectory)
        let lock = try FileLock.acquire("\(home.locksDirectory)/audit.lock")
        defer { withExtendedLifetime(lock) {} }
        var frontier = try currentFrontier()
        var appended: [AuditEntry] = []
        for event in events {
            let entry = AuditEntry(
                index: frontier.size, time: time, actor: actor, operation: event.operation, tenant: event.tenant,
                details: event.details)
            let bytes = try entry.canonicalBytes()
            try store.put(AuditLog.entryKey(entry.index), bytes)
            try frontier.append(try MerkleTree.leafHash(bytes))
            appended.append(entry)
        }
        let checkpoint = try Checkpoint.sign(origin: origin, size: frontier.size, root: try frontier.root(), key: key.privateKey)
        try store.put(AuditLog.checkpointKey(checkpoint.size), Array(checkpoint.text.utf8))
        try store.put(AuditLog.frontierKey, try JSONEncoder().encode(frontier).map { $0 })
        try FileSystem.writeAtomically(Array(checkpoint.text.utf8), to: headPath)
        return (appended, checkpoint)
    }

    /// The right edge of the tree as stored after the last append, extended by any entry a
    /// crash wrote after it; recomputed from every entry when missing or malformed.
    private func currentFrontier() throws -> MerkleFrontier {
        var frontier = MerkleFrontier()
        let lastEntryExists = { (size: Int) in size == 0 || ((try? self.store.exists(AuditLog.entryKey(size - 1))) ?? false) }
        if let bytes = try? store.get(AuditLog.frontierKey),
           let stored = try? JSONDecoder().decode(MerkleFrontier.self, from: Data(bytes)), stored.isWellFormed,
           lastEntryExists(stored.size) {
            frontier = stored
        } else {
            for leaf in try leafHashes() { try frontier.append(leaf) }
            return frontier
        }
        while let bytes = try? store.get(AuditLog.entryKey(frontier.size)) {
            try frontier.append(try MerkleTree.leafHash(bytes))
        }
        return frontier
    }

    private var headPath: String { "\(home.path)/audit-head" }

    // MARK: Reading

    /// Every entry's stored bytes, in order; throws if an index is missing.
    public func entryBytes() throws -> [[UInt8]] {
        let objects = try store.list(prefix: AuditLog.entriesPrefix)
        var result: [[UInt8]] = []
        result.reserveCapacity(objects.count)
        for (position, object) in objects.enumerated() {
            guard object.key == AuditLog.entryKey(position) else {
                throw LetheError.integrity("audit log: entry \(position) is missing (found \(object.key) in its place)")
            }
            result.append(try store.get(object.key))
        }
        return result
    }

    public func entries() throws -> [AuditEntry] {
        try entryBytes().enumerated().map { position, bytes in
            guard let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(bytes)) else {
                throw LetheError.integrity("audit log: \(AuditLog.entryKey(position)) is not an audit entry")
            }
            return entry
        }
    }

    func leafHashes() throws -> [MerkleTree.Hash] {
        try entryBytes().map(MerkleTree.leafHash)
    }

    /// The newest checkpoint in the store, verified, or nil for an empty log.
    public func latestCheckpoint(publicKey: Ed25519.PublicKey) throws -> Checkpoint? {
        guard let object = try store.list(prefix: AuditLog.checkpointsPrefix).last else { return nil }
        let text = String(decoding: try store.get(object.key), as: UTF8.self)
        guard let checkpoint = try Checkpoint.verify(text, publicKey: publicKey) else {
            throw LetheError.integrity("audit log: \(object.key) is not a valid signed checkpoint")
        }
        return checkpoint
    }

    // MARK: Proofs

    public struct InclusionProof: Codable, Equatable, Sendable {
        public let leafIndex: Int
        public let treeSize: Int
        /// SHA-256 of 0x00 ‖ entry, base64.
        public let leafHash: String
        /// Audit path, base64 hashes, leaf to root.
        public let path: [String]
        /// The checkpoint (signed note) the proof leads to.
        public let checkpoint: String
    }

    /// The inclusion proof of leaf `index` in the tree of the latest checkpoint.
    public func prove(index: Int, publicKey: Ed25519.PublicKey) throws -> InclusionProof {
        let leaves = try leafHashes()
        guard let checkpoint = try latestCheckpoint(publicKey: publicKey), index < checkpoint.size, checkpoint.size <= leaves.count else {
            throw LetheError.usage("audit log has no checkpoint covering entry \(index)")
        }
        let path = try MerkleTree.inclusionProof(index: index, leaves: leaves[0..<checkpoint.size])
        return InclusionProof(
            leafIndex: index, treeSize: checkpoint.size, leafHash: Data(leaves[index]).base64EncodedString(),
            path: path.map { Data($0).base64EncodedString() }, checkpoint: checkpoint.text)
    }

    /// Checks a proof against its own checkpoint and `publicKey`.
    public static func verify(_ proof: InclusionProof, entry: [UInt8], publicKey: Ed25519.PublicKey) throws -> Bool {
        guard let checkpoint = try Checkpoint.verify(proof.checkpoint, publicKey: publicKey),
              checkpoint.size == proof.treeSize else { return false }
        let leaf = try MerkleTree.leafHash(entry)
        guard Data(leaf).base64EncodedString() == proof.leafHash else { return false }
        let path = proof.path.compactMap { Data(base64Encoded: $0).map(Array.init) }
        guard path.count == proof.path.count else { return false }
        return try MerkleTree.verifyInclusion(leaf: leaf, index: proof.leafIndex, size: proof.treeSize, proof: path, root: checkpoint.root)
    }

    // MARK: Verification

    public struct Verification: Codable, Sendable {
        public var entries = 0
        public var checkpoints = 0
        public var problems: [String] = []
        public var isClean: Bool { problems.isEmpty }
    }

    /// Recomputes the tree from the entries and checks every checkpoint's signature and root,
    /// the entries' own numbering, and this host's last-seen head.
    public func verify(publicKey: Ed25519.PublicKey) throws -> Verification {
        var result = Verification()
        let bytes: [[UInt8]]
        do {
            bytes = try entryBytes()
        } catch let error as LetheError {
            result.problems.append(error.message)
            return result
        }
        result.entries = bytes.count
        var leaves: [MerkleTree.Hash] = []
        for (position, entryBytes) in bytes.enumerated() {
            leaves.append(try MerkleTree.leafHash(entryBytes))
            guard let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(entryBytes)) else {
                result.problems.append("\(AuditLog.entryKey(position)): not an audit entry")
                continue
            }
            if entry.index != position {
                result.problems.append("\(AuditLog.entryKey(position)): says it is entry \(entry.index) (entries reordered)")
            }
        }
        var roots: [Int: MerkleTree.Hash] = [:]
        func rootOf(_ size: Int) throws -> MerkleTree.Hash {
            if let root = roots[size] { return root }
            let root = try MerkleTree.root(leaves[0..<size])
            roots[size] = root
            return root
        }
        for object in try store.list(prefix: AuditLog.checkpointsPrefix) {
            result.checkpoints += 1
            let text = String(decoding: try store.get(object.key), as: UTF8.self)
            guard let checkpoint = try Checkpoint.verify(text, publicKey: publicKey) else {
                result.problems.append("\(object.key): signature does not verify with the service key")
                continue
            }
            guard object.key == AuditLog.checkpointKey(checkpoint.size), checkpoint.origin == origin else {
                result.problems.append("\(object.key): names size \(checkpoint.size) of \(checkpoint.origin), not its own place")
                continue
            }
            guard checkpoint.size <= leaves.count else {
                result.problems.append("\(object.key): covers \(checkpoint.size) entries but only \(leaves.count) exist (entries deleted)")
                continue
            }
            if try !ConstantTime.equals(rootOf(checkpoint.size), checkpoint.root) {
                result.problems.append("\(object.key): root does not match the entries (an entry was edited, removed or reordered)")
            }
        }
        if let head = try? FileSystem.readFile(headPath, limit: 1 << 16),
           let checkpoint = try Checkpoint.verify(String(decoding: head, as: UTF8.self), publicKey: publicKey) {
            if checkpoint.size > leaves.count {
                result.problems.append("this host last saw \(checkpoint.size) entries, the store has \(leaves.count) (log truncated)")
            } else if try !ConstantTime.equals(rootOf(checkpoint.size), checkpoint.root) {
                result.problems.append("this host's last checkpoint (size \(checkpoint.size)) does not match the entries")
            }
        }
        return result
    }
}

/// The one way commands record what they did: appends to the audit log, signed.
public struct AuditTrail: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public var log: AuditLog {
        AuditLog(store: installation.store, home: installation.home, installationID: installation.configuration.installationID)
    }

    @discardableResult
    public func record(_ operation: String, tenant: TenantID?, details: [String: String] = [:]) throws -> (AuditEntry, Checkpoint) {
        let (entries, checkpoint) = try record([AuditLog.Event(operation, tenant: tenant?.rawValue, details: details)])
        return (entries[0], checkpoint)
    }

    @discardableResult
    public func record(_ events: [AuditLog.Event]) throws -> ([AuditEntry], Checkpoint) {
        try log.append(events, actor: installation.actor, time: installation.nowText, key: try installation.signingKey())
    }
}
