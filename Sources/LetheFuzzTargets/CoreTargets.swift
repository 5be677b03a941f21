import Foundation
import LetheCore
import LetheCrypto
import LetheRepository
import LetheStore

/// Runs every way of reading the input; accepted if any accepts it, else the last refusal.
func anyOf(_ readers: [() throws -> Void]) throws {
    var refusal: Error?
    var accepted = false
    for reader in readers {
        do {
            try reader()
            accepted = true
        } catch {
            refusal = error
        }
    }
    if !accepted, let refusal { throw refusal }
}

/// A value of a type whose initializers are not visible here, made from JSON as it is stored.
func decoded<T: Decodable>(_ object: Any) throws -> T {
    try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
}

private func reencodedJSON<T: Codable & Equatable>(_ value: T, _ what: String, decode: ([UInt8]) throws -> T) {
    do {
        try invariant(try decode(try canonicalJSON(value)) == value, "\(what) re-encoded decodes to something else")
    } catch {
        fatalError("invariant broken: \(what) re-encoded does not decode: \(error)")
    }
}

private let publicKey = FuzzFixtures.serviceKey.publicKey
private let authorizerFingerprints = FuzzFixtures.authorizers.map { try! $0.key.publicKey.fingerprint }
private let audit = AuditLog(
    store: FuzzFixtures.store, lockDirectory: "/nonexistent", anchors: TrustAnchors(directory: "/nonexistent"),
    installationID: "00000000f0220000")

extension FuzzTargets {
    static let coreTargets: [FuzzTarget] = [
        FuzzTarget("configuration", "lethe.json: Configuration.decode (JSON and validation), its canonical bytes and signature") { input in
            let configuration = try Configuration.decode(input, path: "lethe.json")
            if let signature = configuration.signature {
                _ = try ConfigurationSeal.isSigned(configuration, signature: signature, by: publicKey)
            }
            let signed = try ConfigurationSeal.signed(configuration, key: FuzzFixtures.serviceKey)
            try invariant(try ConfigurationSeal.isSigned(signed, signature: signed.signature ?? "", by: publicKey), "a configuration signed verifies")
            reencodedJSON(configuration, "configuration") { try Configuration.decode($0, path: "lethe.json") }
        },
        FuzzTarget("tenant-record", "a tenant record's plaintext (JSON): TenantRecord.decode, re-encoded") { input in
            let record = try TenantRecord.decode(input, key: Layout.record(FuzzFixtures.tenant))
            _ = record.sources.map { ($0.description, $0.entryName) }
            _ = record.retention.map { ($0.summary, $0.keepsEverything) }
            reencodedJSON(record, "tenant record") { try TenantRecord.decode($0, key: Layout.record(FuzzFixtures.tenant)) }
        },
        FuzzTarget("destruction-request", "request.json: DestructionRequest.decode (canonical bytes only)") { input in
            let request = try accepted(DestructionRequest.decode(input), by: "DestructionRequest.decode")
            _ = request.reason.legalBasis
            _ = request.policy.summary
            try invariant(try request.canonicalBytes() == input, "an accepted request is its canonical bytes")
        },
        FuzzTarget("destruction-state", "state.json: the signed object (fixed key) and the DestructionState inside, re-encoded") { input in
            let object = try ObjectKey("destruction/fuzz/state.json")
            func state(_ document: [UInt8]) throws {
                let state = try accepted(try? JSONDecoder().decode(DestructionState.self, from: Data(document)), by: "DestructionState")
                _ = (state.status.isOpen, state.report, state.approvals.count)
                if let execution = state.execution {
                    _ = (execution.kekEpochAfter, execution.revokedCommitment, execution.objectsDeleted, execution.checks)
                }
                reencodedJSON(state, "destruction state") { try JSONDecoder().decode(DestructionState.self, from: Data($0)) }
            }
            try anyOf([
                {
                    // As stored: signed for its own key. The context is taken from the input so
                    // that the fuzzer is not stopped by the comparison of two strings.
                    let context = (try? JSONDecoder().decode(SignedObject.self, from: Data(input)))?.context ?? object.rawValue
                    try state(try SignedObject.open(input, context: context, publicKey: publicKey, object: object))
                },
                { try state(input) },
            ])
        },
        FuzzTarget("registry", "authorizer registry: a stored envelope opened, and documents (split at 0x00) enveloped and signed by the fixed service and authorizer keys, verified as a chain") { input in
            try anyOf([
                {
                    let envelope = try accepted(try? JSONDecoder().decode(RegistryEnvelope.self, from: Data(input)), by: "RegistryEnvelope")
                    let (document, bytes) = try RegistryChain.open(envelope, serviceKey: publicKey, name: "registry version")
                    _ = try RegistryChain.shortfall(document, bytes: bytes, signatures: envelope.signatures, previous: nil, previousDigest: nil)
                },
                {
                    // Three versions at most: signing is what a run spends its time on.
                    let envelopes: [RegistryEnvelope] = try segments(input).prefix(3).map { document in
                        let service = try FuzzFixtures.serviceKey.sign(
                            SignedObject.signedBytes(context: RegistryEnvelope.serviceContext, document: document))
                        let signatures = try zip(FuzzFixtures.authorizers, authorizerFingerprints).map { authorizer, fingerprint in
                            let (name, key) = authorizer
                            return [
                                "authorizer": name, "fingerprint": fingerprint,
                                "signature": Data(try key.signature(for: document)).base64EncodedString(), "time": "2026-01-10T02:00:00Z",
                            ]
                        }
                        return try decoded([
                            "format": RegistryEnvelope.formatName, "document": Data(document).base64EncodedString(),
                            "service": Data(service).base64EncodedString(), "signatures": signatures,
                        ] as [String: Any])
                    }
                    let verified = try RegistryChain.verify(envelopes, serviceKey: publicKey) { "registry version \($0)" }
                    if let current = verified.current {
                        _ = (current.active.count, current.policy.summary, verified.document(current.version))
                    }
                },
            ])
        },
        FuzzTarget("checkpoint", "a checkpoint (C2SP signed note): Checkpoint.verify as stored, and the input as a note body signed by the fixed key") { input in
            try anyOf([
                { _ = try accepted(try Checkpoint.verify(String(decoding: input, as: UTF8.self), publicKey: publicKey), by: "Checkpoint.verify") },
                {
                    let origin = firstLine(input).line
                    let keyID = try Checkpoint.keyID(name: origin, publicKey: publicKey)
                    let signature = try FuzzFixtures.serviceKey.privateKey.signature(for: input)
                    let text = String(decoding: input, as: UTF8.self) + "\n\u{2014} \(origin) \(Data(keyID + signature).base64EncodedString())\n"
                    let checkpoint = try accepted(try Checkpoint.verify(text, publicKey: publicKey), by: "Checkpoint.verify")
                    invariant(checkpoint.origin == origin && checkpoint.root.count == 32 && checkpoint.size >= 0, "a verified checkpoint")
                },
            ])
        },
        FuzzTarget("audit-entry", "audit log: entries (split at 0x00) read under a checkpoint signed by the fixed key, folded into destruction states; the frontier; an inclusion proof and its entry") { input in
            try anyOf([
                {
                    let entries = Array(segments(input).prefix(64))
                    for tile in try AuditLog.tiles(of: entries) { try FuzzFixtures.store.put(tile.key, tile.bytes) }
                    let root = try MerkleTree.root(try entries.map { try MerkleTree.leafHash($0) })
                    let checkpoint = try Checkpoint.sign(origin: audit.origin, size: entries.count, root: root, key: FuzzFixtures.serviceKey.privateKey)
                    let history = try audit.history(under: checkpoint)
                    for request in Set(history.entries.compactMap { $0.details["request"] }) {
                        _ = try DestructionState.fold(history.entries, request: request)
                    }
                    if history.size > 0 {
                        let proof = try history.prove(index: history.size - 1)
                        try invariant(try AuditLog.verify(proof, entry: history.bytes[history.size - 1], publicKey: publicKey), "a proof of the log verifies")
                    }
                },
                {
                    let frontier = try JSONDecoder().decode(MerkleFrontier.self, from: Data(input))
                    guard frontier.isWellFormed else { throw Rejected(decoder: "MerkleFrontier.isWellFormed") }
                    _ = try frontier.root()
                },
                {
                    let parts = segments(input)
                    let proof = try JSONDecoder().decode(AuditLog.InclusionProof.self, from: Data(parts[0]))
                    let entry = parts.count > 1 ? parts[1] : []
                    guard try AuditLog.verify(proof, entry: entry, publicKey: publicKey) else { throw Rejected(decoder: "AuditLog.verify") }
                },
            ])
        },
        FuzzTarget("report", "a destruction report, checked as an auditor does: ReportVerifier.verify (signature by the fixed key)") { input in
            let trust = ReportVerifier.Trust(serviceKey: publicKey, authorizers: nil, registryGenesis: nil)
            let result = ReportVerifier.verify(json: input, signature: try FuzzFixtures.serviceKey.sign(input), trust: trust)
            guard result.isValid else { throw Rejected(decoder: "ReportVerifier.verify") }
        },
        FuzzTarget("lease", "a lease generation: its object name (first line) and record (the rest), and the generation that follows") { input in
            let (name, rest) = firstLine(input)
            let record = try accepted(Lease.decodeRecord(objectName: name, bytes: rest.isEmpty ? nil : rest), by: "Lease.decodeRecord")
            _ = Lease.nextGeneration(after: record)
        },
    ]
}

extension FuzzTargets {
    /// The controller's extract, checked as `audit verify-extract` checks it. The input is the
    /// folder's files separated by 0x00: extract.json, extract.sig (base64, since a raw
    /// signature may hold 0x00), checkpoint.txt, SHA256SUMS, then the entries in the order the
    /// manifest lists them. Accepted when the manifest decodes and every check ran; an extract
    /// that verifies must hold only entries of its tenant.
    static let extractTargets: [FuzzTarget] = [
        FuzzTarget("audit-extract", "an audit extract folder: AuditExtractVerifier.verify (manifest, checkpoint, entries, proofs)") { input in
            let parts = segments(input)
            var files: [String: [UInt8]] = [:]
            for (index, name) in ["extract.json", "extract.sig", "checkpoint.txt", "SHA256SUMS"].enumerated() where index < parts.count {
                files[name] = name == "extract.sig" ? Data(base64Encoded: Data(parts[index])).map(Array.init) ?? parts[index] : parts[index]
            }
            let manifest = try accepted(try? JSONDecoder().decode(AuditExtract.Manifest.self, from: Data(parts[0])), by: "AuditExtract.Manifest")
            for (offset, bytes) in parts.dropFirst(4).enumerated() {
                files[offset < manifest.entries.count ? manifest.entries[offset].file : "entries/extra-\(offset).json"] = bytes
            }
            let result = AuditExtractVerifier.verify(files: files, publicKey: FuzzFixtures.serviceKey.publicKey)
            invariant(!result.checks.isEmpty, "a decodable manifest is checked")
            if result.isValid {
                for item in manifest.entries {
                    let entry = try JSONDecoder().decode(AuditEntry.self, from: Data(files[item.file] ?? []))
                    invariant(entry.tenant == manifest.tenant && entry.index == item.index, "a valid extract holds only its tenant's entries")
                }
            }
        },
    ]
}
