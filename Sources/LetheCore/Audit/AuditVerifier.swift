import Foundation
import LetheCrypto
import LetheStore

/// A checkpoint held outside the log (inside a destruction report, by a witness): the log
/// must still contain the tree it signed.
public struct ExternalCheckpoint: Sendable {
    public let source: String
    public let text: String

    public init(source: String, text: String) {
        self.source = source
        self.text = text
    }
}

extension AuditLog {
    public struct Verification: Codable, Sendable {
        public var entries = 0
        public var checkpoints = 0
        /// Checkpoints held outside the log that were checked against it.
        public var externalCheckpoints = 0
        /// Integrity violations: anything that means the log was altered.
        public var problems: [String] = []
        /// Not damage: leftovers of an interrupted append, which the next append discards.
        public var notes: [String] = []
        public var isClean: Bool { problems.isEmpty }
    }

    /// Recomputes the tree from the entries, one streaming pass over the entry bundles, and
    /// checks against it: every stored hash tile, every stored checkpoint (signature, place,
    /// root), the newest checkpoint against this host's anchor, the entries' own numbering,
    /// and every checkpoint in `external`. Nothing is assumed from a derived file.
    public func verify(publicKey: Ed25519.PublicKey, external: [ExternalCheckpoint] = []) throws -> Verification {
        var result = Verification()
        let trusted: Checkpoint?
        do {
            trusted = try trustedCheckpoint(publicKey: publicKey)
        } catch let error as LetheError {
            result.problems.append(error.message)
            // Still check what the store holds, up to its own newest checkpoint.
            trusted = try? newestStoredCheckpoint(publicKey: publicKey)
        }
        let committed = trusted?.size ?? 0

        // Every checkpoint, by the size it covers, each compared with the root of that prefix
        // as the sweep over the leaves reaches it.
        var wanted: [Int: [(source: String, checkpoint: Checkpoint)]] = [:]
        for key in try checkpointObjects() {
            result.checkpoints += 1
            let text = String(decoding: try object(key), as: UTF8.self)
            guard let checkpoint = try Checkpoint.verify(text, publicKey: publicKey) else {
                result.problems.append("\(key): not a checkpoint signed by this service's key")
                continue
            }
            guard key == AuditLog.checkpointKey(checkpoint.size), checkpoint.origin == origin else {
                result.problems.append("\(key): names size \(checkpoint.size) of \(checkpoint.origin), not its own place")
                continue
            }
            wanted[checkpoint.size, default: []].append((key.rawValue, checkpoint))
        }
        for item in external {
            result.externalCheckpoints += 1
            guard let checkpoint = try Checkpoint.verify(item.text, publicKey: publicKey), checkpoint.origin == origin else {
                result.problems.append("\(item.source): its checkpoint is not signed by this service's key for \(origin)")
                continue
            }
            wanted[checkpoint.size, default: []].append((item.source, checkpoint))
        }
        if let trusted { wanted[trusted.size, default: []].append(("the newest checkpoint", trusted)) }

        var frontier = MerkleFrontier()
        func check(_ size: Int) throws {
            guard let list = wanted[size] else { return }
            let root = try frontier.root()
            for (source, checkpoint) in list where !ConstantTime.equals(root, checkpoint.root) {
                result.problems.append("\(source): root does not match the first \(size) entries (an entry was edited, removed or reordered)")
            }
        }
        try check(0)
        let tree = try openTreeForVerification(size: committed)
        var tiles = TileRecomputation(tree: tree)
        var tileProblem: String?
        let decoder = JSONDecoder()
        var read = 0
        sweep: for bundle in 0..<((committed + TileLayout.width - 1) / TileLayout.width) {
            let stored: [[UInt8]]
            do {
                stored = try tree.entries(bundle: bundle)
            } catch let error as LetheError where error.kind == .integrity {
                result.problems.append(error.message.replacingOccurrences(of: "audit log: ", with: ""))
                break sweep
            }
            let object = TileLayout.tile(level: nil, index: bundle, treeSize: committed)!.key
            for bytes in stored {
                let index = read
                let leaf = try MerkleTree.leafHash(bytes)
                try frontier.append(leaf)
                if tileProblem == nil, let problem = try tiles.add(leaf) { tileProblem = problem }
                if let entry = try? decoder.decode(AuditEntry.self, from: Data(bytes)) {
                    if entry.index != index {
                        result.problems.append("\(object): entry \(index) says it is entry \(entry.index) (entries reordered)")
                    }
                } else {
                    result.problems.append("\(object): entry \(index) is not an audit entry")
                }
                read += 1
                try check(read)
            }
        }
        if tileProblem == nil, read == committed { tileProblem = try tiles.finish() }
        if let tileProblem { result.problems.append(tileProblem) }
        for (size, list) in wanted where size > read {
            for (source, _) in list {
                result.problems.append("\(source): covers \(size) entries but the log holds only \(read) under its newest checkpoint (entries deleted)")
            }
        }
        // Each checkpoint extends the one before it: an RFC 9162 consistency proof between every
        // consecutive pair of signed roots, as an auditor holding only checkpoints would check.
        // The tiles were just checked against the entries, so the proofs come from them.
        if tileProblem == nil {
            let signed = wanted.filter { $0.key >= 1 && $0.key <= read }.sorted { $0.key < $1.key }.compactMap { $0.value.first }
            for (older, newer) in zip(signed, signed.dropFirst()) where older.checkpoint.size < newer.checkpoint.size {
                let proof = try MerkleTree.consistencyProof(oldSize: older.checkpoint.size, newSize: newer.checkpoint.size) { try tree.root(of: $0) }
                if try !MerkleTree.verifyConsistency(
                    oldSize: older.checkpoint.size, newSize: newer.checkpoint.size, oldRoot: older.checkpoint.root,
                    newRoot: newer.checkpoint.root, proof: proof) {
                    result.problems.append("\(newer.source) is not consistent with \(older.source) (the log was rewritten between them)")
                }
            }
        }
        let past = try tilesPast(size: committed)
        if !past.isEmpty {
            result.notes.append(
                "\(past.count) tiles past the newest checkpoint were never signed (an interrupted append; the next append discards them)")
        }
        if try legacyLeftovers(), !tree.isInMemory {
            result.notes.append("objects of the log's layout before tiles remain (audit/entries/); the next append removes them")
        }
        result.entries = read
        return result
    }
}
