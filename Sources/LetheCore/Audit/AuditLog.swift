import Foundation
import Glibc
import LetheCrypto
import LetheKeys
import LetheStore

/// The tamper-evident log of every operation: an RFC 9162 Merkle tree whose leaves are the
/// entries, stored as C2SP tlog-tiles (`TileLayout`), with a checkpoint signed by the service
/// key after every append.
///
/// Store layout (static files an auditor reads with the public key alone):
///
///     audit/tile/entries/<N>[.p/<W>]         entry bundles, 256 canonical-JSON entries each
///     audit/tile/<L>/<N>[.p/<W>]             hash tiles
///     audit/checkpoint                       the newest signed checkpoint
///     audit/checkpoints/<size, 20 digits>    every checkpoint ever issued (one per append)
///
/// Only what a signed checkpoint covers is the log. The newest checkpoint in the store is
/// trusted only as far as it agrees with the one this host anchored in its key directory
/// (`TrustAnchors`): older is a truncation, different at the same size is a fork, newer must be
/// consistent with the anchor. Appends start from that trusted checkpoint: the tiles of its
/// right edge must reproduce its root, and tiles stored past it (a crash between writing tiles
/// and signing, or tiles planted by whoever writes the store) are overwritten or removed,
/// never signed over. Appends are serialized on one host by `audit.lock`, and between hosts
/// sharing the store by a short `Lease` on the log.
///
/// Callers batch: one append per run of a command, so a night costs a few objects per 256
/// entries, not several per entry.
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

    static func checkpointKey(_ size: Int) -> ObjectKey {
        let digits = String(size)
        return try! ObjectKey("audit/checkpoints/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits)
    }
    /// The tiles of a log holding exactly `entries`, as an append onto an empty log writes
    /// them: lets the fuzz targets store arbitrary entries in the real layout.
    package static func tiles(of entries: [[UInt8]]) throws -> [(key: ObjectKey, bytes: [UInt8])] {
        try TileAppend(onto: TiledTree(size: 0, backing: .memory([:])), entries: entries).writes.map { ($0.tile.key, $0.bytes) }
    }

    static let checkpointsPrefix = try! ObjectKey("audit/checkpoints")
    static let latestKey = try! ObjectKey("audit/checkpoint")

    /// A new entry to append.
    public struct Event: Sendable {
        public let operation: String
        public let tenant: String?
        public let details: [String: String]
        /// When it happened, if not at the append (an event held in a batch until the run's
        /// append keeps the time it was noted).
        public var time: String?

        public init(_ operation: String, tenant: String?, details: [String: String] = [:], time: String? = nil) {
            self.operation = operation
            self.tenant = tenant
            self.details = details
            self.time = time
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
        var tree = try tree(under: base)
        let legacy = try LegacyAuditLayout.isPresent(in: store)
        var events = events
        if legacy.unmigrated {
            // A log from before tiles: store its tiles (again, if a migration crashed), and log
            // the migration as the first entry over them.
            if tree.isInMemory {
                for write in try LegacyAuditLayout.tiles(size: tree.size, store: store) { try store.put(write.tile.key, write.bytes) }
                tree = try self.tree(under: base)
            }
            events.insert(Event("audit.migrate", tenant: nil, details: [
                "entries": String(tree.size), "from": "one object per entry (audit/entries/)", "to": "C2SP tlog-tiles (audit/tile/)",
            ]), at: 0)
        }
        var appended: [AuditEntry] = []
        var leaves: [[UInt8]] = []
        for event in events {
            let entry = AuditEntry(
                index: tree.size + appended.count, time: event.time ?? time, actor: actor, operation: event.operation, tenant: event.tenant,
                details: event.details)
            let bytes = try entry.canonicalBytes()
            guard bytes.count <= EntryBundle.maximumEntryBytes else {
                throw LetheError.failed(
                    "audit entry \(entry.operation) is \(bytes.count) bytes, more than the \(EntryBundle.maximumEntryBytes) an entry bundle holds")
            }
            appended.append(entry)
            leaves.append(bytes)
        }
        let plan = try TileAppend(onto: tree, entries: leaves)
        for write in plan.writes { try store.put(write.tile.key, write.bytes) }
        FaultPoint.reach("audit.entries-written")
        let checkpoint = try Checkpoint.sign(origin: origin, size: plan.size, root: plan.root, key: key.privateKey)
        let text = Array(checkpoint.text.utf8)
        try store.put(AuditLog.checkpointKey(checkpoint.size), text)
        try store.put(AuditLog.latestKey, text)
        FaultPoint.reach("audit.checkpoint-written")
        try anchors.setAuditHead(checkpoint)
        try discardSuperseded(plan)
        if legacy.leftovers { try LegacyAuditLayout.remove(from: store) }
        return (appended, checkpoint)
    }

    /// The tree `checkpoint` signs, from its tiles, whose right edge must reproduce the signed
    /// root (the rest of the tree is checked wherever it is read: `history`, proofs, `verify`).
    func tree(under checkpoint: Checkpoint?) throws -> TiledTree {
        guard let checkpoint, checkpoint.size > 0 else { return TiledTree(size: 0, backing: .store(store)) }
        let tree = try openTree(size: checkpoint.size)
        guard ConstantTime.equals(try tree.root(), checkpoint.root) else {
            throw LetheError.integrity(
                "audit log: the tiles do not reproduce the signed checkpoint of size \(checkpoint.size) (a tile was edited or replaced)")
        }
        return tree
    }

    /// The tree of `size` entries as stored: in tiles, or, for a log not yet migrated, in the
    /// layout before them.
    private func openTree(size: Int) throws -> TiledTree {
        guard let first = TileLayout.tile(level: nil, index: 0, treeSize: size) else { return TiledTree(size: 0, backing: .store(store)) }
        if try !store.exists(first.key), try !store.exists(TileLayout.Tile(level: nil, index: 0, width: TileLayout.width).key),
           try store.exists(LegacyAuditLayout.entryKey(0)) {
            return try LegacyAuditLayout.tree(size: size, store: store)
        }
        return TiledTree(size: size, backing: .store(store))
    }

    /// After a checkpoint is published: removes the partial tiles the append's writes
    /// superseded, and any tile past the new right edge (left by an append that crashed before
    /// signing, or planted). None of them is part of the signed tree.
    private func discardSuperseded(_ plan: TileAppend) throws {
        for write in plan.writes {
            let stale = try store.list(prefix: write.tile.partials).map(\.key).filter { $0 != write.tile.key }
            if !stale.isEmpty { try store.delete(stale) }
        }
        let beyond = try tilesPast(size: plan.size)
        if !beyond.isEmpty { try store.delete(beyond) }
    }

    /// Tiles stored past the right edge of a tree of `size` entries: wider partial tiles of its
    /// edge, and tiles after it, on every level.
    func tilesPast(size: Int) throws -> [ObjectKey] {
        var found: [ObjectKey] = []
        var level: Int? = nil
        while true {
            let count = size >> (TileLayout.height * (level ?? 0))
            if let edge = TileLayout.tile(level: level, index: count / TileLayout.width, treeSize: size), !edge.isFull {
                found += try store.list(prefix: edge.partials).map(\.key).filter { key in Int(key.name).map { $0 > edge.width } ?? true }
            }
            var index = (count + TileLayout.width - 1) / TileLayout.width
            var levelFound = false
            while true {
                let full = TileLayout.Tile(level: level, index: index, width: TileLayout.width)
                let partials = try store.list(prefix: full.partials).map(\.key)
                let hasFull = try store.exists(full.key)
                guard hasFull || !partials.isEmpty else { break }
                found += (hasFull ? [full.key] : []) + partials
                levelFound = true
                index += 1
            }
            if count == 0 && !levelFound { break }
            level = (level ?? -1) + 1
        }
        return found
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
    func newestStoredCheckpoint(publicKey: Ed25519.PublicKey) throws -> Checkpoint? {
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
    /// consistency proof, taken from the stored tiles, verifies between the two signed roots.
    /// Where the hashes come from does not matter: no tiles make a proof verify between two
    /// roots unless the one tree is a prefix of the other.
    private func requireConsistent(old: Checkpoint, new: Checkpoint) throws {
        let consistent: Bool
        if old.size == 0 { return }
        do {
            let tree = try openTree(size: new.size)
            consistent = try MerkleTree.verifyConsistency(
                oldSize: old.size, newSize: new.size, oldRoot: old.root, newRoot: new.root, proof: try tree.consistencyProof(from: old.size))
        } catch let error as KindedError where error.kind == .integrity {
            consistent = false
        }
        guard consistent else {
            throw LetheError.integrity(
                "audit log: the store's checkpoint of size \(new.size) does not extend the one of size \(old.size) this host last saw (the log was rewritten)")
        }
    }

    // MARK: Reading

    /// Every entry the trusted checkpoint covers, each proven to be under it (the tree is
    /// recomputed and must reproduce the signed root). Decisions are taken from this.
    public func history(publicKey: Ed25519.PublicKey) throws -> AuditHistory {
        try history(under: try trustedCheckpoint(publicKey: publicKey))
    }

    /// The entries `checkpoint` covers, proven under it: one pass over the entry bundles, whose
    /// hashes must reproduce the signed root and the stored hash tiles, so that proofs taken
    /// from the tiles afterwards are proofs about these entries.
    package func history(under checkpoint: Checkpoint?) throws -> AuditHistory {
        guard let checkpoint, checkpoint.size > 0 else {
            return AuditHistory(checkpoint: checkpoint, entries: [], bytes: [], frontier: MerkleFrontier(), tree: TiledTree(size: 0, backing: .store(store)))
        }
        let tree = try openTree(size: checkpoint.size)
        var entries: [AuditEntry] = []
        var bytes: [[UInt8]] = []
        entries.reserveCapacity(checkpoint.size)
        bytes.reserveCapacity(checkpoint.size)
        var frontier = MerkleFrontier()
        var tiles = TileRecomputation(tree: tree)
        let decoder = JSONDecoder()
        for bundle in 0..<((checkpoint.size + TileLayout.width - 1) / TileLayout.width) {
            for stored in try tree.entries(bundle: bundle) {
                let index = entries.count
                guard let entry = try? decoder.decode(AuditEntry.self, from: Data(stored)), entry.index == index else {
                    throw LetheError.integrity("audit log: entry \(index) in \(TileLayout.tile(level: nil, index: bundle, treeSize: checkpoint.size)!) is not audit entry \(index)")
                }
                let leaf = try MerkleTree.leafHash(stored)
                try frontier.append(leaf)
                if let problem = try tiles.add(leaf) { throw LetheError.integrity("audit log: \(problem)") }
                entries.append(entry)
                bytes.append(stored)
            }
        }
        guard ConstantTime.equals(try frontier.root(), checkpoint.root) else {
            throw LetheError.integrity(
                "audit log: the entries do not match the signed checkpoint of size \(checkpoint.size) (an entry was edited, removed or reordered)")
        }
        if let problem = try tiles.finish() { throw LetheError.integrity("audit log: \(problem)") }
        return AuditHistory(checkpoint: checkpoint, entries: entries, bytes: bytes, frontier: frontier, tree: tree)
    }

    /// `history` under `checkpoint`, reading only what was appended since `earlier` was read:
    /// the new entries are hashed onto `earlier`'s frontier, and the result must be the root
    /// `checkpoint` signs, which proves the new tree extends the one `earlier` holds (the
    /// entries `earlier` proved are not read again). A long log read after every append of a
    /// run (verification reads it once per nightly shard) costs the appended part only.
    func history(extending earlier: AuditHistory, under checkpoint: Checkpoint) throws -> AuditHistory {
        guard earlier.size > 0, earlier.size < checkpoint.size else { return try history(under: checkpoint) }
        let tree = try openTree(size: checkpoint.size)
        var entries = earlier.entries
        var bytes = earlier.bytes
        var frontier = earlier.frontier
        let decoder = JSONDecoder()
        let first = earlier.size / TileLayout.width
        for bundle in first..<((checkpoint.size + TileLayout.width - 1) / TileLayout.width) {
            for (offset, stored) in try tree.entries(bundle: bundle).enumerated() {
                let index = bundle * TileLayout.width + offset
                if index < earlier.size {
                    guard stored == earlier.bytes[index] else {
                        throw LetheError.integrity("audit log: entry \(index) changed since it was read under the checkpoint of size \(earlier.size)")
                    }
                    continue
                }
                guard let entry = try? decoder.decode(AuditEntry.self, from: Data(stored)), entry.index == index else {
                    throw LetheError.integrity("audit log: entry \(index) in \(TileLayout.tile(level: nil, index: bundle, treeSize: checkpoint.size)!) is not audit entry \(index)")
                }
                try frontier.append(try MerkleTree.leafHash(stored))
                entries.append(entry)
                bytes.append(stored)
            }
        }
        guard ConstantTime.equals(try frontier.root(), checkpoint.root) else {
            throw LetheError.integrity(
                "audit log: the entries do not match the signed checkpoint of size \(checkpoint.size), or it does not extend the one of size \(earlier.size) (the log was rewritten)")
        }
        return AuditHistory(checkpoint: checkpoint, entries: entries, bytes: bytes, frontier: frontier, tree: tree)
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

    func object(_ key: ObjectKey) throws -> [UInt8] {
        try store.get(key)
    }

    func checkpointObjects() throws -> [ObjectKey] {
        try store.list(prefix: AuditLog.checkpointsPrefix).map(\.key)
    }

    func legacyLeftovers() throws -> Bool {
        try LegacyAuditLayout.isPresent(in: store).leftovers
    }

    func openTreeForVerification(size: Int) throws -> TiledTree {
        try openTree(size: size)
    }
}

/// The entries of the log under its trusted checkpoint, proven, and the tiles of its tree,
/// checked against them, for proofs.
public struct AuditHistory: Sendable {
    public let checkpoint: Checkpoint?
    public let entries: [AuditEntry]
    /// The stored bytes of each entry (the Merkle leaves' input).
    public let bytes: [[UInt8]]
    /// The right edge of the tree of these entries, for reading on from here.
    package let frontier: MerkleFrontier
    let tree: TiledTree

    public var size: Int { entries.count }

    /// The inclusion proof of entry `index` in this tree, from the tiles, checked against the
    /// signed root before it is handed out.
    public func prove(index: Int) throws -> AuditLog.InclusionProof {
        guard let checkpoint, index >= 0, index < checkpoint.size else {
            throw LetheError.usage("audit log has no checkpoint covering entry \(index)")
        }
        let leaf = try MerkleTree.leafHash(bytes[index])
        let path = try tree.inclusionProof(index: index)
        guard try MerkleTree.verifyInclusion(leaf: leaf, index: index, size: checkpoint.size, proof: path, root: checkpoint.root) else {
            throw LetheError.integrity("audit log: the tiles give no valid proof of entry \(index) (a tile changed since it was read)")
        }
        return AuditLog.InclusionProof(
            leafIndex: index, treeSize: checkpoint.size, leafHash: Data(leaf).base64EncodedString(),
            path: path.map { Data($0).base64EncodedString() }, checkpoint: checkpoint.text)
    }

    /// The root of the first `size` entries (for checkpoints taken earlier).
    public func root(ofFirst size: Int) throws -> MerkleTree.Hash {
        guard size >= 0, size <= self.size else { throw LetheError.usage("the audit log has \(self.size) entries, not \(size)") }
        return try tree.root(of: 0..<size)
    }

    /// The RFC 9162 consistency proof from the tree of the first `oldSize` entries to the tree
    /// of the first `newSize`.
    public func consistencyProof(from oldSize: Int, to newSize: Int) throws -> [MerkleTree.Hash] {
        guard oldSize >= 1, oldSize <= newSize, newSize <= size else {
            throw LetheError.usage("a consistency proof needs 1 ≤ OLD ≤ NEW ≤ \(size) (the log's size), not \(oldSize) and \(newSize)")
        }
        return try MerkleTree.consistencyProof(oldSize: oldSize, newSize: newSize) { try tree.root(of: $0) }
    }
}

/// The one way commands record what they did: appends to the audit log, signed.
///
/// `record` appends at once and returns the entry and the checkpoint over it: for what a
/// report or a decision embeds (destruction, approvals, registry changes). `note` is for the
/// many small outcomes of a run (a tenant verified, pruned): inside `Installation.batchingAudit`
/// they wait, in order, for the run's next append, which `flush` (or any `record`) makes, so a
/// run of 10,000 tenants publishes a handful of checkpoints rather than one per tenant. A
/// batch is flushed before the run reports its work done.
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
        return (entries.last!, checkpoint)
    }

    @discardableResult
    public func record(_ events: [AuditLog.Event]) throws -> ([AuditEntry], Checkpoint) {
        try record(events, time: installation.nowText)
    }

    /// Appends with a time the caller already used (a state it wrote with the same time).
    /// Events a batch holds go first, in the same append; the entries returned are `events`'.
    @discardableResult
    func record(_ events: [AuditLog.Event], time: String) throws -> ([AuditEntry], Checkpoint) {
        let key = try installation.signingKey()
        let pending = installation.takePendingAudit()
        do {
            let (entries, checkpoint) = try log.append(pending + events, actor: installation.actor, time: time, key: key)
            return (Array(entries.suffix(events.count)), checkpoint)
        } catch {
            installation.restorePendingAudit(pending)
            throw error
        }
    }

    /// Logs `events` with the next append of the batch, or now when no batch is open.
    public func note(_ events: [AuditLog.Event]) throws {
        guard !events.isEmpty else { return }
        let time = installation.nowText
        let stamped = events.map { event in
            var event = event
            event.time = event.time ?? time
            return event
        }
        if !installation.deferPendingAudit(stamped) { try record(stamped, time: time) }
    }

    public func note(_ operation: String, tenant: TenantID?, details: [String: String] = [:]) throws {
        try note([AuditLog.Event(operation, tenant: tenant?.rawValue, details: details)])
    }

    /// Appends what the batch holds, if anything.
    public func flush() throws {
        if installation.hasPendingAudit { try record([], time: installation.nowText) }
    }

    /// The proven history. Reading it costs one pass over the log, so an installation keeps
    /// the last one it read and reuses it while the trusted checkpoint stays the same.
    public func history() throws -> AuditHistory {
        let log = self.log
        let checkpoint = try log.trustedCheckpoint(publicKey: try installation.signingKey().publicKey)
        let cached = installation.cachedHistory
        if let cached, cached.checkpoint == checkpoint { return cached }
        let history: AuditHistory
        if let cached, let checkpoint, cached.checkpoint?.origin == checkpoint.origin {
            history = try log.history(extending: cached, under: checkpoint)
        } else {
            history = try log.history(under: checkpoint)
        }
        installation.cachedHistory = history
        return history
    }
}
