import Foundation
import Glibc
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
///     audit/checkpoint                       the newest of them
///     audit/frontier.json                    the tree's right edge (derived, checked before use)
///
/// Only what a signed checkpoint covers is the log. The newest checkpoint in the store is
/// trusted only as far as it agrees with the one this host anchored in its key directory
/// (`TrustAnchors`): older is a truncation, different at the same size is a fork, newer must be
/// consistent with the anchor. Appends start from that trusted checkpoint: the frontier is used
/// only if it reproduces the checkpoint's root, and entries stored past the checkpoint (a crash
/// between writing entries and signing, or entries planted by whoever writes the store) are
/// overwritten, never signed over. Appends are serialized on one host by `audit.lock`, and
/// between hosts sharing the store by a short `Lease` on the log.
public final class AuditLog: @unchecked Sendable {
    private let store: ObjectStore
    private let lockPath: String
    private let anchors: TrustAnchors
    private let worker: String
    private let clock: Clock
    public let origin: String

    public init(
        store: ObjectStore, lockDirectory: String, anchors: TrustAnchors, installationID: String,
        worker: String = "\(ProcessInfo.processInfo.hostName):\(getpid()):0", clock: Clock = SystemClock()
    ) {
        self.store = store
        lockPath = "\(lockDirectory)/audit.lock"
        self.anchors = anchors
        self.worker = worker
        self.clock = clock
        origin = "lethe.local/\(installationID)"
    }

    /// How long an append may hold the log against other hosts, and how long one waits for it.
    static let leaseSeconds: TimeInterval = 60

    /// Runs `body` holding the log's lease, waiting while another worker holds it.
    private func holdingLease<T>(_ body: () throws -> T) throws -> T {
        try Lease.holding(
            "audit", store: store, worker: worker, clock: clock, duration: AuditLog.leaseSeconds, wait: 2 * AuditLog.leaseSeconds, body)
    }

    package static func entryKey(_ index: Int) -> ObjectKey { try! ObjectKey("audit/entries/\(padded(index))") }
    static func checkpointKey(_ size: Int) -> ObjectKey { try! ObjectKey("audit/checkpoints/\(padded(size))") }
    static let entriesPrefix = try! ObjectKey("audit/entries")
    static let checkpointsPrefix = try! ObjectKey("audit/checkpoints")
    static let latestKey = try! ObjectKey("audit/checkpoint")
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

    // MARK: Appending

    /// Appends `events` as consecutive leaves and signs one checkpoint over the new tree. When
    /// this returns, the entries, the checkpoint and this host's anchor are durable.
    @discardableResult
    public func append(_ events: [Event], actor: String, time: String, key: ServiceSigningKey) throws -> ([AuditEntry], Checkpoint) {
        try FileSystem.makeDirectories(FileSystem.parent(of: lockPath))
        let lock = try FileLock.acquire(lockPath)
        defer { withExtendedLifetime(lock) {} }
        return try holdingLease { try appendHoldingLocks(events, actor: actor, time: time, key: key) }
    }

    private func appendHoldingLocks(_ events: [Event], actor: String, time: String, key: ServiceSigningKey) throws -> ([AuditEntry], Checkpoint) {
        let base = try trustedCheckpoint(publicKey: key.publicKey)
        var frontier = try frontier(matching: base)
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
        FaultPoint.reach("audit.entries-written")
        let checkpoint = try Checkpoint.sign(origin: origin, size: frontier.size, root: try frontier.root(), key: key.privateKey)
        let text = Array(checkpoint.text.utf8)
        try store.put(AuditLog.checkpointKey(checkpoint.size), text)
        try store.put(AuditLog.latestKey, text)
        FaultPoint.reach("audit.checkpoint-written")
        try anchors.setAuditHead(checkpoint)
        try store.put(AuditLog.frontierKey, try JSONEncoder().encode(frontier).map { $0 })
        try discardUncommitted(from: frontier.size)
        return (appended, checkpoint)
    }

    /// Removes entries stored past the tree's size: leftovers of an append that crashed before
    /// its checkpoint. They were never part of the log.
    private func discardUncommitted(from size: Int) throws {
        var index = size
        while try store.exists(AuditLog.entryKey(index)) {
            try store.delete(AuditLog.entryKey(index))
            index += 1
        }
    }

    /// The frontier of the tree `checkpoint` signs: the stored one if it reproduces the signed
    /// root, else recomputed from the entries, which must then reproduce it.
    private func frontier(matching checkpoint: Checkpoint?) throws -> MerkleFrontier {
        guard let checkpoint else { return MerkleFrontier() }
        if let bytes = try? store.get(AuditLog.frontierKey),
           let stored = try? JSONDecoder().decode(MerkleFrontier.self, from: Data(bytes)),
           stored.isWellFormed, stored.size == checkpoint.size,
           let root = try? stored.root(), ConstantTime.equals(root, checkpoint.root) {
            return stored
        }
        var frontier = MerkleFrontier()
        for index in 0..<checkpoint.size {
            try frontier.append(try MerkleTree.leafHash(try entryBytes(index)))
        }
        guard ConstantTime.equals(try frontier.root(), checkpoint.root) else {
            throw LetheError.integrity(
                "audit log: the entries do not match the signed checkpoint of size \(checkpoint.size) (an entry was edited, removed or reordered)")
        }
        return frontier
    }

    // MARK: The trusted head

    /// The newest checkpoint the log can be trusted to have, or nil for a log never written.
    ///
    /// It is the store's newest checkpoint, signed by `publicKey`, checked against this host's
    /// anchor: a store behind the anchor, or at its size with another root, is an integrity
    /// error; a store ahead of it (another host appended, or this one crashed before moving
    /// the anchor) is accepted only if the anchored tree is a prefix of the new one.
    public func trustedCheckpoint(publicKey: Ed25519.PublicKey) throws -> Checkpoint? {
        let anchored = try anchors.auditHead(publicKey: publicKey)
        let stored = try newestStoredCheckpoint(publicKey: publicKey)
        switch (stored, anchored) {
        case (nil, nil):
            return nil
        case (nil, let anchor?):
            throw LetheError.integrity(
                "audit log: the store has no checkpoint, but this host last saw \(anchor.size) entries (the log was deleted or replaced)")
        case (let stored?, nil):
            return stored
        case (let stored?, let anchor?):
            if stored.size < anchor.size {
                throw LetheError.integrity(
                    "audit log: the store's newest checkpoint covers \(stored.size) entries, but this host last saw \(anchor.size) (the log was cut short)")
            }
            if stored.size == anchor.size {
                guard ConstantTime.equals(stored.root, anchor.root) else {
                    throw LetheError.integrity(
                        "audit log: the store's checkpoint of size \(stored.size) has another root than the one this host signed (the log was rewritten)")
                }
                return stored
            }
            try requireConsistent(old: anchor, new: stored)
            return stored
        }
    }

    /// The newest checkpoint in the store, signature checked, or nil if there is none.
    private func newestStoredCheckpoint(publicKey: Ed25519.PublicKey) throws -> Checkpoint? {
        let object: ObjectKey
        let bytes: [UInt8]
        if let latest = try? store.get(AuditLog.latestKey) {
            (object, bytes) = (AuditLog.latestKey, latest)
        } else if let last = try store.list(prefix: AuditLog.checkpointsPrefix).last {
            // A log written before `audit/checkpoint` existed.
            (object, bytes) = (last.key, try store.get(last.key))
        } else {
            return nil
        }
        guard let checkpoint = try Checkpoint.verify(String(decoding: bytes, as: UTF8.self), publicKey: publicKey) else {
            throw LetheError.integrity("audit log: \(object) is not a checkpoint signed by this service's key")
        }
        guard checkpoint.origin == origin else {
            throw LetheError.integrity("audit log: \(object) belongs to log \(checkpoint.origin), not \(origin)")
        }
        return checkpoint
    }

    /// Throws unless the tree `new` signs extends the tree `old` signs: an RFC 9162
    /// consistency proof, computed from the stored entries (which must reproduce `new`'s
    /// root), verifies between the two signed roots.
    private func requireConsistent(old: Checkpoint, new: Checkpoint) throws {
        var leaves: [MerkleTree.Hash] = []
        leaves.reserveCapacity(new.size)
        for index in 0..<new.size { leaves.append(try MerkleTree.leafHash(try entryBytes(index))) }
        let consistent = try old.size == 0
            || MerkleTree.verifyConsistency(
                oldSize: old.size, newSize: new.size, oldRoot: old.root, newRoot: new.root,
                proof: try MerkleTree.consistencyProof(oldSize: old.size, leaves: leaves[...]))
        guard consistent, ConstantTime.equals(try MerkleTree.root(leaves), new.root) else {
            throw LetheError.integrity(
                "audit log: the store's checkpoint of size \(new.size) does not extend the one of size \(old.size) this host last saw (the log was rewritten)")
        }
    }

    // MARK: Reading

    /// The stored bytes of entry `index`.
    func entryBytes(_ index: Int) throws -> [UInt8] {
        do {
            return try store.get(AuditLog.entryKey(index))
        } catch is ObjectNotFound {
            throw LetheError.integrity("audit log: entry \(index) (\(AuditLog.entryKey(index))) is missing")
        }
    }

    /// Every entry the trusted checkpoint covers, each proven to be under it (the tree is
    /// recomputed and must reproduce the signed root). Decisions are taken from this.
    public func history(publicKey: Ed25519.PublicKey) throws -> AuditHistory {
        try history(under: try trustedCheckpoint(publicKey: publicKey))
    }

    /// The entries `checkpoint` covers, proven under it.
    package func history(under checkpoint: Checkpoint?) throws -> AuditHistory {
        guard let checkpoint else {
            return AuditHistory(checkpoint: nil, entries: [], bytes: [], leaves: [])
        }
        var entries: [AuditEntry] = []
        var bytes: [[UInt8]] = []
        var leaves: [MerkleTree.Hash] = []
        entries.reserveCapacity(checkpoint.size)
        for index in 0..<checkpoint.size {
            let stored = try entryBytes(index)
            guard let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(stored)), entry.index == index else {
                throw LetheError.integrity("audit log: \(AuditLog.entryKey(index)) is not audit entry \(index)")
            }
            entries.append(entry)
            bytes.append(stored)
            leaves.append(try MerkleTree.leafHash(stored))
        }
        guard ConstantTime.equals(try MerkleTree.root(leaves), checkpoint.root) else {
            throw LetheError.integrity(
                "audit log: the entries do not match the signed checkpoint of size \(checkpoint.size) (an entry was edited, removed or reordered)")
        }
        return AuditHistory(checkpoint: checkpoint, entries: entries, bytes: bytes, leaves: leaves)
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

    /// The inclusion proof of leaf `index` in the tree of the trusted checkpoint.
    public func prove(index: Int, publicKey: Ed25519.PublicKey) throws -> InclusionProof {
        try history(publicKey: publicKey).prove(index: index)
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

    // MARK: For verification

    /// Every stored entry key and checkpoint key, for `AuditVerifier`.
    func storedObjects() throws -> (entries: [ObjectKey], checkpoints: [ObjectKey]) {
        (try store.list(prefix: AuditLog.entriesPrefix).map(\.key), try store.list(prefix: AuditLog.checkpointsPrefix).map(\.key))
    }

    func object(_ key: ObjectKey) throws -> [UInt8] {
        try store.get(key)
    }
}

/// The entries of the log under its trusted checkpoint, proven, with their leaf hashes.
public struct AuditHistory: Sendable {
    public let checkpoint: Checkpoint?
    public let entries: [AuditEntry]
    /// The stored bytes of each entry (the Merkle leaves' input).
    public let bytes: [[UInt8]]
    let leaves: [MerkleTree.Hash]

    public var size: Int { entries.count }

    /// The inclusion proof of entry `index` in this tree.
    public func prove(index: Int) throws -> AuditLog.InclusionProof {
        guard let checkpoint, index >= 0, index < checkpoint.size else {
            throw LetheError.usage("audit log has no checkpoint covering entry \(index)")
        }
        let path = try MerkleTree.inclusionProof(index: index, leaves: leaves[...])
        return AuditLog.InclusionProof(
            leafIndex: index, treeSize: checkpoint.size, leafHash: Data(leaves[index]).base64EncodedString(),
            path: path.map { Data($0).base64EncodedString() }, checkpoint: checkpoint.text)
    }

    /// The root of the first `size` entries (for checkpoints taken earlier).
    public func root(ofFirst size: Int) throws -> MerkleTree.Hash {
        try MerkleTree.root(leaves[0..<size])
    }

    /// The RFC 9162 consistency proof from the tree of the first `oldSize` entries to the tree
    /// of the first `newSize`.
    public func consistencyProof(from oldSize: Int, to newSize: Int) throws -> [MerkleTree.Hash] {
        guard oldSize >= 1, oldSize <= newSize, newSize <= size else {
            throw LetheError.usage("a consistency proof needs 1 ≤ OLD ≤ NEW ≤ \(size) (the log's size), not \(oldSize) and \(newSize)")
        }
        return try MerkleTree.consistencyProof(oldSize: oldSize, leaves: leaves[0..<newSize])
    }
}

/// The one way commands record what they did: appends to the audit log, signed.
public struct AuditTrail: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public var log: AuditLog {
        // The host-wide lock lives in the key directory: in the home, H could remove it and let
        // two appends of this host interleave.
        AuditLog(
            store: installation.store, lockDirectory: installation.keysDirectory,
            anchors: installation.anchors, installationID: installation.configuration.installationID,
            worker: installation.worker, clock: installation.clock)
    }

    @discardableResult
    public func record(_ operation: String, tenant: TenantID?, details: [String: String] = [:]) throws -> (AuditEntry, Checkpoint) {
        let (entries, checkpoint) = try record([AuditLog.Event(operation, tenant: tenant?.rawValue, details: details)])
        return (entries[0], checkpoint)
    }

    @discardableResult
    public func record(_ events: [AuditLog.Event]) throws -> ([AuditEntry], Checkpoint) {
        try record(events, time: installation.nowText)
    }

    /// Appends with a time the caller already used (a state it wrote with the same time).
    @discardableResult
    func record(_ events: [AuditLog.Event], time: String) throws -> ([AuditEntry], Checkpoint) {
        try log.append(events, actor: installation.actor, time: time, key: try installation.signingKey())
    }

    /// The proven history. Reading it costs one pass over the log, so an installation keeps
    /// the last one it read and reuses it while the trusted checkpoint stays the same.
    public func history() throws -> AuditHistory {
        let log = self.log
        let checkpoint = try log.trustedCheckpoint(publicKey: try installation.signingKey().publicKey)
        if let cached = installation.cachedHistory, cached.checkpoint == checkpoint { return cached }
        let history = try log.history(under: checkpoint)
        installation.cachedHistory = history
        return history
    }
}
