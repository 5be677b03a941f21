import Foundation
import LetheCrypto
import LetheStore

/// Checks an `AuditExtract` folder with nothing but its files and the service's public key the
/// controller holds: the manifest's signature, the key's fingerprint, the checkpoint's
/// signature, and for every entry its bytes, its tenant and time, and its inclusion proof to
/// the checkpoint's root. Nothing in the folder is trusted before it is checked, and a file
/// the manifest does not list is a failure, not something to skip.
public enum AuditExtractVerifier {
    public struct Result: Codable, Sendable {
        public var tenant: String?
        public var entries = 0
        public var treeSize = 0
        public var checks: [VerificationCheck] = []
        public var isValid: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
    }

    /// The folder's files: the four of the extract and everything in `entries/`.
    public static func verify(directory: String, publicKey: Ed25519.PublicKey) -> Result {
        var files: [String: [UInt8]] = [:]
        func read(_ name: String) { files[name] = try? FileSystem.readFile("\(directory)/\(name)", limit: 64 << 20) }
        ["extract.json", "extract.sig", "checkpoint.txt", "SHA256SUMS"].forEach(read)
        // Whatever is in entries/ is there, readable or not: an unlisted one is a failure.
        for name in (try? FileSystem.listDirectory("\(directory)/entries")) ?? [] {
            files["entries/\(name)"] = (try? FileSystem.readFile("\(directory)/entries/\(name)", limit: 64 << 20)) ?? []
        }
        return verify(files: files, publicKey: publicKey)
    }

    /// `files` by their names in the folder (`entries/12.json`).
    public static func verify(files: [String: [UInt8]], publicKey: Ed25519.PublicKey) -> Result {
        var result = Result()
        func add(_ check: String, _ passed: Bool, _ detail: String) {
            result.checks.append(VerificationCheck(check: check, passed: passed, detail: detail))
        }
        func read(_ name: String) -> [UInt8]? { files[name] }

        guard let json = read("extract.json"), let signature = read("extract.sig") else {
            add("extract files", false, "the folder lacks extract.json or extract.sig")
            return result
        }
        let fingerprint = (try? publicKey.fingerprint) ?? "?"
        let signed = publicKey.isValidSignature(signature, for: json)
        add("extract signature", signed, signed ? "extract.json is signed by \(fingerprint)" : "extract.json does not verify with \(fingerprint)")
        guard let manifest = try? JSONDecoder().decode(AuditExtract.Manifest.self, from: Data(json)),
              manifest.format == AuditExtract.formatName, (try? manifest.canonicalBytes()) == json else {
            add("extract format", false, "extract.json is not a canonical \(AuditExtract.formatName) document")
            return result
        }
        result.tenant = manifest.tenant
        result.entries = manifest.entries.count
        result.treeSize = manifest.treeSize
        add("service key", manifest.serviceKeyFingerprint == fingerprint,
            "the extract names \(manifest.serviceKeyFingerprint); the key you gave is \(fingerprint)")

        // The checkpoint every proof leads to.
        let checkpointBytes = read("checkpoint.txt") ?? []
        let checkpoint = (try? Checkpoint.verify(String(decoding: checkpointBytes, as: UTF8.self), publicKey: publicKey)) ?? nil
        let checkpointHash = (try? SHA256.hash(checkpointBytes)).map(Hex.encode)
        let checkpointOK = checkpoint != nil && checkpoint?.size == manifest.treeSize && checkpoint?.origin == manifest.origin
            && checkpointHash == manifest.checkpointSHA256
        add("checkpoint", checkpointOK,
            checkpointOK ? "checkpoint.txt is signed by the service key: \(manifest.treeSize) entries of \(manifest.origin)"
                : "checkpoint.txt is not the service-signed checkpoint of size \(manifest.treeSize) the manifest names")

        // Each entry: its bytes, what it says, and its place in the signed tree.
        var problems: [String] = []
        var seen = Set<Int>()
        for item in manifest.entries {
            guard item.file == AuditExtract.entryFile(item.index), seen.insert(item.index).inserted else {
                problems.append("entry \(item.index): listed twice or under another file name (\(item.file))")
                continue
            }
            guard let bytes = read(item.file) else {
                problems.append("\(item.file): missing")
                continue
            }
            guard let digest = try? SHA256.hash(bytes), Hex.encode(digest) == item.sha256 else {
                problems.append("\(item.file): its SHA-256 is not the manifest's (changed)")
                continue
            }
            guard let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(bytes)), (try? entry.canonicalBytes()) == bytes,
                  entry.index == item.index else {
                problems.append("\(item.file): not audit entry \(item.index) in canonical form")
                continue
            }
            if entry.tenant != manifest.tenant { problems.append("\(item.file): names tenant \(entry.tenant ?? "none"), not \(manifest.tenant)") }
            if !AuditExtract.inPeriod(entry.time, from: manifest.from, to: manifest.to) {
                problems.append("\(item.file): its time \(entry.time) is outside the period")
            }
            let path = item.path.compactMap { Data(base64Encoded: $0).map(Array.init) }
            let included = checkpoint.map { checkpoint in
                guard let leaf = try? MerkleTree.leafHash(bytes), Data(leaf).base64EncodedString() == item.leafHash,
                      path.count == item.path.count else { return false }
                return (try? MerkleTree.verifyInclusion(leaf: leaf, index: item.index, size: checkpoint.size, proof: path, root: checkpoint.root)) ?? false
            } ?? false
            if !included { problems.append("\(item.file): its inclusion proof does not lead to the checkpoint's root") }
        }
        add("entries", problems.isEmpty && !manifest.entries.isEmpty,
            problems.isEmpty ? "\(manifest.entries.count) entries of \(manifest.tenant), each in the signed tree of \(manifest.treeSize) entries"
                : problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; and \(problems.count - 5) more" : ""))

        // Nothing else is in the folder: a planted entry is not silently ignored.
        let listed = Set(manifest.entries.map(\.file))
        let extra = files.keys.filter { $0.hasPrefix("entries/") && !listed.contains($0) }.sorted()
        add("no other entries", extra.isEmpty, extra.isEmpty ? "entries/ holds exactly the listed entries" : "not in the manifest: " + extra.joined(separator: ", "))
        let sums = "\(manifest.checkpointSHA256)  checkpoint.txt\n" + manifest.entries.map { "\($0.sha256)  \($0.file)\n" }.joined()
        let sumsOK = read("SHA256SUMS") == Array(sums.utf8)
        add("SHA256SUMS", sumsOK, sumsOK ? "lists the checkpoint and every entry with the manifest's hashes" : "does not match the manifest")
        return result
    }
}
