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

    /// Recomputes the tree from the entries, one pass, and checks against it: every stored
    /// checkpoint (signature, place, root), the newest checkpoint against this host's anchor,
    /// the entries' own numbering, and every checkpoint in `external`. Nothing is assumed
    /// from a derived file.
    public func verify(publicKey: Ed25519.PublicKey, external: [ExternalCheckpoint] = []) throws -> Verification {
        var result = Verification()
        let (entryKeys, checkpointKeys) = try storedObjects()

        // The entries, contiguous from 0.
        var stored = 0
        for key in entryKeys {
            guard key == AuditLog.entryKey(stored) else {
                result.problems.append("entry \(stored) is missing (found \(key) in its place)")
                break
            }
            stored += 1
        }
        let trusted: Checkpoint?
        do {
            trusted = try trustedCheckpoint(publicKey: publicKey)
        } catch let error as LetheError {
            result.problems.append(error.message)
            trusted = nil
        }
        let committed = trusted?.size ?? 0
        if stored > committed {
            result.notes.append(
                "\(stored - committed) entries after the newest checkpoint were never signed (an interrupted append; the next append discards them)")
        }

        // Every checkpoint, sorted by the size it covers, each compared with the root of that
        // prefix as the sweep over the leaves reaches it.
        var wanted: [Int: [(source: String, checkpoint: Checkpoint)]] = [:]
        for key in checkpointKeys {
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

        let sweep = max(stored, wanted.keys.max() ?? 0)
        var frontier = MerkleFrontier()
        var leaves: [MerkleTree.Hash] = []
        func check(_ size: Int) throws {
            guard let list = wanted[size] else { return }
            let root = try frontier.root()
            for (source, checkpoint) in list where !ConstantTime.equals(root, checkpoint.root) {
                result.problems.append("\(source): root does not match the first \(size) entries (an entry was edited, removed or reordered)")
            }
        }
        try check(0)
        for index in 0..<min(sweep, stored) {
            let bytes = try object(AuditLog.entryKey(index))
            let leaf = try MerkleTree.leafHash(bytes)
            try frontier.append(leaf)
            leaves.append(leaf)
            if let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(bytes)) {
                if entry.index != index {
                    result.problems.append("\(AuditLog.entryKey(index)): says it is entry \(entry.index) (entries reordered)")
                }
            } else {
                result.problems.append("\(AuditLog.entryKey(index)): not an audit entry")
            }
            try check(index + 1)
        }
        for (size, list) in wanted where size > stored {
            for (source, _) in list {
                result.problems.append("\(source): covers \(size) entries but only \(stored) exist (entries deleted)")
            }
        }
        // Each checkpoint extends the one before it: an RFC 9162 consistency proof between every
        // consecutive pair of signed roots, as an auditor holding only checkpoints would check.
        let signed = wanted.filter { $0.key >= 1 && $0.key <= stored }.sorted { $0.key < $1.key }.compactMap { $0.value.first }
        for (older, newer) in zip(signed, signed.dropFirst()) where older.checkpoint.size < newer.checkpoint.size {
            let proof = try MerkleTree.consistencyProof(oldSize: older.checkpoint.size, leaves: leaves[0..<newer.checkpoint.size])
            if try !MerkleTree.verifyConsistency(
                oldSize: older.checkpoint.size, newSize: newer.checkpoint.size, oldRoot: older.checkpoint.root,
                newRoot: newer.checkpoint.root, proof: proof) {
                result.problems.append("\(newer.source) is not consistent with \(older.source) (the log was rewritten between them)")
            }
        }
        result.entries = min(stored, committed)
        return result
    }
}
