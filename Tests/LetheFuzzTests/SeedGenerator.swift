import Foundation
@testable import LetheCore
import LetheCrypto
@testable import LetheFuzzTargets
@testable import LetheKeys
@testable import LetheRepository
import LetheStore
import Testing

/// Writes the seed corpora, Tests/Fuzz/corpus/<target>/, from a real installation: a tenant
/// backed up, offboarded, destroyed on a request two authorizers approved, with the service
/// key and the authorizers' keys fixed (`FuzzFixtures`) so that what was signed verifies in the
/// fuzz targets. The tenant's objects are re-sealed under the fixed DEK for the same reason.
///
///     LETHE_FUZZ_WRITE_SEEDS=1 swift test --filter SeedGenerator
///
/// Run it again when a format changes; `FuzzCorpusTests` fails until then.
@Suite(.serialized) struct SeedGenerator {
    static let enabled = ProcessInfo.processInfo.environment["LETHE_FUZZ_WRITE_SEEDS"] != nil

    @Test(.enabled(if: enabled)) func writeSeeds() throws {
        var seeds = Seeds()
        let world = try SeedInstallation()
        defer { world.remove() }
        try world.harvest(into: &seeds)
        seeds.addS3Answers()
        try seeds.write(to: "\(FuzzCorpus.root)/corpus")
    }
}

struct Seeds {
    private(set) var byTarget: [String: [(String, [UInt8])]] = [:]

    mutating func add(_ target: String, _ name: String, _ bytes: [UInt8]) {
        precondition(FuzzTargets.named(target) != nil, "no target \(target)")
        byTarget[target, default: []].append((name, bytes))
    }

    mutating func add(_ target: String, _ name: String, _ text: String) {
        add(target, name, Array(text.utf8))
    }

    /// Replaces each target's directory with its seeds.
    func write(to directory: String) throws {
        for (target, files) in byTarget {
            let path = "\(directory)/\(target)"
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for (name, bytes) in files {
                try Data(bytes).write(to: URL(fileURLWithPath: "\(path)/\(name)"))
            }
        }
    }

    mutating func addS3Answers() {
        let ns = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
        add("s3-xml", "list-objects.xml", """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult \(ns)><Name>b</Name><Prefix>t/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
            <IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
            <Contents><Key>t/a</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>10</Size></Contents>
            <Contents><Key>t/b &amp; c</Key><Size>0</Size></Contents>
            <CommonPrefixes><Prefix>t/d/</Prefix></CommonPrefixes></ListBucketResult>
            """)
        add("s3-xml", "list-versions.xml", """
            <ListVersionsResult \(ns)><IsTruncated>true</IsTruncated><NextKeyMarker>t/b</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>
            <DeleteMarker><Key>t/a</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest><LastModified>2026-01-03T00:00:00Z</LastModified></DeleteMarker>
            <Version><Key>t/a</Key><VersionId>v2</VersionId><Size>5</Size><LastModified>2026-01-02T00:00:00.000Z</LastModified></Version>
            <Version><Key>t/b</Key><VersionId>null</VersionId><Size>7</Size><LastModified>2026-01-01T00:00:00Z</LastModified></Version>
            </ListVersionsResult>
            """)
        add("s3-xml", "list-uploads.xml", """
            <ListMultipartUploadsResult \(ns)><Bucket>b</Bucket><IsTruncated>true</IsTruncated><NextKeyMarker>t/b</NextKeyMarker>
            <NextUploadIdMarker>u2</NextUploadIdMarker>
            <Upload><Key>t/a</Key><UploadId>u1</UploadId></Upload><Upload><Key>t/b</Key><UploadId>u2</UploadId></Upload>
            </ListMultipartUploadsResult>
            """)
        add("s3-xml", "delete-result.xml", """
            <DeleteResult \(ns)><Deleted><Key>t/a</Key></Deleted>
            <Error><Key>t/b</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>
            """)
        add("s3-xml", "initiate-upload.xml", "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc</UploadId></InitiateMultipartUploadResult>")
        add("s3-xml", "complete-upload.xml", "<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>")
        add("s3-xml", "versioning.xml", "<VersioningConfiguration \(ns)><Status>Enabled</Status></VersioningConfiguration>")
        add("s3-xml", "object-lock.xml", """
            <ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>
            <Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>30</Days><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>
            """)
        add("s3-xml", "retention.xml", "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>")
        add("s3-xml", "legal-hold.xml", "<LegalHold><Status>ON</Status></LegalHold>")
        add("s3-credentials", "credentials", """
            # written by hand
            [default]
            aws_access_key_id = AKIAIOSFODNN7EXAMPLE
            aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

            [lethe]
            aws_access_key_id=ASIAIOSFODNN7EXAMPLE
            aws_secret_access_key=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY
            aws_session_token = FwoGZXIvYXdzEBYaDHqa0AP1/5I4Vl9lCxKZAbqlxkwa; region = eu-central-1
            """)
        add("s3-credentials", "session-only", "[lethe]\r\n\taws_access_key_id = A\r\naws_secret_access_key = S\r\naws_session_token = T\r\n")
        add("s3-xml", "error.xml", "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.\nPlease try again.</Message><RequestId>1</RequestId></Error>")
    }
}

/// A Lethe home in a temporary directory whose service key is `FuzzFixtures.serviceKey`.
final class SeedInstallation {
    let root: String
    let home: Home
    let clock = ManualClock(Timestamp.parse("2026-01-10T02:00:00Z")!)
    let installation: Installation
    let keysDirectory: String

    init() throws {
        root = NSTemporaryDirectory() + "lethe-fuzz-seeds-" + UUID().uuidString
        keysDirectory = "\(root)/keys"
        try FileSystem.makeDirectories(root)
        home = Home(path: "\(root)/home")
        _ = try home.initialize(keysDirectory: keysDirectory, storeDirectory: nil)
        // The fixed key replaces the one `initialize` made; the log it began under that key
        // goes, and the configuration is signed again.
        let keys = try KeyDirectory(keysDirectory)
        try FuzzFixtures.serviceKey.privateKey.pemRepresentation.withUnsafeBytes { try keys.write($0, to: "signing-key.pem", mode: 0o600) }
        try Array(FuzzFixtures.serviceKey.publicKey.pemRepresentation.utf8).withUnsafeBytes {
            try keys.write($0, to: "signing-key.pub.pem", mode: 0o644)
        }
        try FileManager.default.removeItem(atPath: "\(root)/home/store/audit")
        try FileManager.default.removeItem(atPath: "\(keysDirectory)/audit-head")
        try home.saveConfiguration(try Configuration.decode(try FileSystem.readFile(home.configurationPath), path: home.configurationPath))
        installation = try Installation(home: home, clock: clock, environment: ["LETHE_ACTOR": "seed-generator"])
    }

    func remove() {
        try? FileSystem.removeTree(root)
    }

    var store: ObjectStore { installation.store }

    func stored(_ key: String) throws -> [UInt8] {
        try store.get(try ObjectKey(key))
    }

    func harvest(into seeds: inout Seeds) throws {
        let tenant = FuzzFixtures.tenant
        let data = "\(root)/data"
        try FileSystem.makeDirectories("\(data)/docs/old")
        try FileSystem.writeAtomically(Array("contract of fuzz\n".utf8), to: "\(data)/docs/contract.txt", mode: 0o644)
        try FileSystem.writeAtomically(Array("v1\n".utf8), to: "\(data)/docs/old/contract-v1.txt", mode: 0o600)
        try FileSystem.writeAtomically(Array(repeating: 7, count: 3000), to: "\(data)/scan.bin", mode: 0o644)
        try FileManager.default.createSymbolicLink(atPath: "\(data)/latest", withDestinationPath: "docs/contract.txt")
        _ = try TenantRegistry(installation).add(id: tenant, name: "Fuzz & Co", sources: [
            TenantSource(kind: .directory, location: data), TenantSource(kind: .command, location: "echo dump", name: "db.sql"),
        ])
        _ = try Lifecycle(installation).setRetention(tenant, RetentionPolicy(keepLast: 3, keepDaily: 7))
        #expect(try BackupService(installation: installation).run([tenant])[0].status == .succeeded)
        clock.advance(by: 3600)
        #expect(try BackupService(installation: installation).run([tenant])[0].status == .succeeded)

        try harvestRepository(tenant, into: &seeds)
        try harvestKeysAndConfiguration(into: &seeds)

        // Offboarded, due, and destroyed on a request the two authorizers approve.
        _ = try Lifecycle(installation).offboard(tenant, windowDays: 1)
        clock.advance(by: 2 * 86_400)
        let registry = AuthorizerRegistry(installation)
        let roles: [Authorizer.Role] = [.dpo, .officer]
        for ((name, key), role) in zip(FuzzFixtures.authorizers, roles) {
            _ = try registry.proposeAdd(name: name, role: role, publicKeyPEM: try key.publicKey.pemRepresentation)
        }
        _ = try registry.proposePolicy(required: 2, minimumDPOs: 1, gracePeriodHours: 24)
        for (_, key) in FuzzFixtures.authorizers { _ = try registry.sign(privateKey: key) }
        // A second version: a policy change, signed by both.
        _ = try registry.proposePolicy(required: 2, minimumDPOs: 1, gracePeriodHours: 12)
        for (_, key) in FuzzFixtures.authorizers { _ = try registry.sign(privateKey: key) }

        let requests = DestructionRequests(installation)
        let created = try requests.create(tenant: tenant, reason: .retentionExpired, note: "window over")
        let stateKey = DestructionRequests.stateKey(created.id)
        seeds.add("destruction-state", "pending.json", try store.get(stateKey))
        _ = try requests.approve(created.id, privateKey: FuzzFixtures.authorizers[0].key)
        seeds.add("destruction-state", "one-approval.json", try store.get(stateKey))
        let approved = try requests.approve(created.id, privateKey: FuzzFixtures.authorizers[1].key)
        seeds.add("destruction-state", "approved.json", try store.get(stateKey))
        clock.advance(by: 13 * 3600)
        let outcome = try DestructionExecutor(installation).execute(approved.id)
        #expect(outcome.performed)

        let stateObject = try store.get(stateKey)
        seeds.add("destruction-state", "completed.json", stateObject)
        seeds.add("destruction-state", "completed-document.json",
                  try SignedObject.open(stateObject, context: stateKey.rawValue, publicKey: FuzzFixtures.serviceKey.publicKey, object: stateKey))
        seeds.add("destruction-request", "request.json", try store.get(DestructionRequests.requestKey(created.id)))

        let trust = ReportVerifier.Trust(serviceKey: FuzzFixtures.serviceKey.publicKey, authorizers: nil, registryGenesis: nil)
        #expect(ReportVerifier.verify(json: outcome.report.json, signature: outcome.report.signature, trust: trust).isValid)
        seeds.add("report", "report.json", outcome.report.json)

        var documents: [[UInt8]] = []
        for version in 1...2 {
            let envelope = try stored(AuthorizerRegistry.versionKey(version).rawValue)
            seeds.add("registry", "envelope-\(version).json", envelope)
            documents.append(try #require(try JSONDecoder().decode(RegistryEnvelope.self, from: Data(envelope)).documentBytes))
        }
        seeds.add("registry", "document-1", documents[0])
        seeds.add("registry", "chain-1-2", documents[0] + [0] + documents[1])

        try harvestAuditLog(into: &seeds)
        try harvestLeases(into: &seeds)
    }

    /// The tenant's repository: plaintexts as they are, and objects sealed again under the fixed DEK.
    private func harvestRepository(_ tenant: TenantID, into seeds: inout Seeds) throws {
        let repository = try installation.repository(for: tenant)
        try repository.loadIndex()
        let fixed = FuzzFixtures.keys
        var sealed = 0
        func seal(_ plaintext: [UInt8], _ kind: ObjectKind, _ name: String, _ file: String) throws {
            seeds.add("sealed-object", file, try SealedObject.seal(plaintext, kind: kind, name: name, keys: fixed))
            sealed += 1
        }

        for (number, id) in try repository.snapshotIDs().enumerated() {
            let plaintext = try repository.getSealed(kind: .snapshot, name: id.hex, at: Layout.snapshot(tenant, id))
            seeds.add("snapshot", "snapshot-\(number).json", plaintext)
            if number == 0 { try seal(plaintext, .snapshot, FuzzFixtures.snapshotID.hex, "snapshot") }

            // Every tree of the snapshot, root first.
            var pending = [try #require(try repository.loadSnapshot(id).treeID)]
            var trees = 0
            while let tree = pending.popLast(), number == 0 {
                let bytes = try repository.readBlob(tree)
                seeds.add("tree", "tree-\(trees)", bytes)
                trees += 1
                pending += try Tree.decode(bytes, what: "tree").nodes.compactMap(\.subtree)
            }
        }
        seeds.add("tree", "empty", Tree(nodes: []).encoded())

        for object in try store.list(prefix: Layout.indexPrefix(tenant)) {
            guard case .index(let id) = Layout.classify(object.key, tenant: tenant) else { continue }
            let plaintext = try repository.getSealed(kind: .index, name: id.hex, at: object.key)
            seeds.add("index", "index-\(id.short)", plaintext)
            if sealed == 1 { try seal(plaintext, .index, FuzzFixtures.indexID.hex, "index") }
        }

        let record = try repository.getSealed(kind: .tenantRecord, name: tenant.rawValue, at: Layout.record(tenant))
        seeds.add("tenant-record", "record.json", record)
        try seal(record, .tenantRecord, tenant.rawValue, "tenant-record")
        let holder = #"{"exclusive":false,"host":"seed-host","operation":"backup","pid":4242,"time":"2026-01-10T02:00:00Z"}"#
        try seal(Array(holder.utf8), .lock, FuzzFixtures.lockName, "lock")

        // Pack headers as they are; a pack of the tenant's small blobs written again under the
        // fixed DEK and pack id; and an empty one.
        let packs = Set(repository.index.locations.values.map(\.pack)).sorted()
        var blobs: [(BlobType, [UInt8])] = []
        for pack in packs {
            let (entries, _) = try repository.readPackHeader(pack)
            seeds.add("pack-header", "header-\(pack.short)", Pack.encodeHeader(entries))
            for entry in entries where entry.location.plainLength <= 1024 {
                blobs.append((entry.location.type, try repository.readBlob(entry.id)))
            }
        }
        seeds.add("pack-header", "empty", Pack.encodeHeader([]))
        for (file, contents) in [("pack", blobs), ("empty-pack", [])] {
            let scratch = MemoryStore()
            let writer = try PackWriter(keys: fixed, store: scratch, id: FuzzFixtures.packID)
            for (type, plaintext) in contents {
                _ = try plaintext.withUnsafeBytes { try writer.add($0, id: try fixed.blobID(for: $0), type: type) }
            }
            _ = try writer.finish()
            seeds.add("pack", file, try scratch.get(Layout.pack(fixed.tenant, FuzzFixtures.packID)))
        }
    }

    private func harvestKeysAndConfiguration(into seeds: inout Seeds) throws {
        let keystore = try FileSystem.readFile("\(keysDirectory)/keystore.json")
        seeds.add("keystore", "keystore.json", keystore)
        // The same file as an earlier Lethe wrote it: v1 (read, verified and migrated once).
        let v1 = String(decoding: keystore, as: UTF8.self).replacingOccurrences(of: KeystoreFile.formatName, with: LegacyKeystoreFormat.formatName)
        seeds.add("keystore", "keystore-v1.json", v1)
        let empty = KeystoreFile(epoch: KEKEpoch(3), tenants: [:]).encoded(mac: [UInt8](repeating: 0xab, count: 32))
        seeds.add("keystore", "empty.json", empty)

        seeds.add("configuration", "lethe.json", try FileSystem.readFile(home.configurationPath))
        var configuration = installation.configuration
        configuration.s3 = S3Settings(endpoint: "https://s3.eu-central-1.amazonaws.com", region: "eu-central-1", bucket: "backups",
                                      prefix: "lethe/prod", addressing: "virtual-host", credentialsFile: "/etc/lethe/s3")
        configuration.notifications = NotificationSettings(command: "logger -t lethe", webhook: "https://hooks.example/lethe")
        configuration.metricsFile = "/var/lib/node_exporter/lethe.prom"
        configuration.retention = RetentionPolicy(keepLast: 2, keepDaily: 7, keepWeekly: 4, keepMonthly: 12)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        seeds.add("configuration", "lethe-s3.json",
                  Array(try encoder.encode(try ConfigurationSeal.signed(configuration, key: FuzzFixtures.serviceKey))) + [0x0a])
    }

    private func harvestAuditLog(into seeds: inout Seeds) throws {
        let history = try AuditTrail(installation).history()
        seeds.add("audit-entry", "log", Array(history.bytes.joined(separator: [0])))
        seeds.add("audit-entry", "first-entry", history.bytes[0])
        let proof = try history.prove(index: history.size / 2)
        seeds.add("audit-entry", "proof", try canonicalJSON(proof) + [0] + history.bytes[history.size / 2])
        seeds.add("audit-entry", "frontier.json", try canonicalJSON(history.frontier))

        seeds.add("checkpoint", "checkpoint", try stored("audit/checkpoint"))
        let checkpoints = try store.list(prefix: try ObjectKey("audit/checkpoints"))
        for object in [checkpoints.first, checkpoints.dropFirst(checkpoints.count / 2).first].compactMap({ $0 }) {
            seeds.add("checkpoint", "checkpoint-\(object.key.name)", try store.get(object.key))
        }
        // A body, which the target signs itself.
        let checkpoint = try #require(history.checkpoint)
        seeds.add("checkpoint", "body", checkpoint.body)
    }

    private func harvestLeases(into seeds: inout Seeds) throws {
        var found = 0
        for object in try store.list(prefix: try ObjectKey("leases")) where found < 4 {
            seeds.add("lease", "lease-\(found)", Array("\(object.key.name)\n".utf8) + (try store.get(object.key)))
            found += 1
        }
        seeds.add("lease", "unreadable", "00000000000000000007\n")
    }
}
