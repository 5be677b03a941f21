import Foundation
import LetheCore
import LetheCrypto
import LetheRepository
import LetheStore

/// Decodes `bytes` again, which an accepted object re-encoded must survive unchanged.
private func reencoded<T: Equatable>(_ value: T, _ bytes: [UInt8], _ decode: ([UInt8]) throws -> T, _ what: String) {
    do {
        let again = try decode(bytes)
        invariant(again == value, "\(what) re-encoded decodes to something else")
    } catch {
        fatalError("invariant broken: \(what) re-encoded does not decode: \(error)")
    }
}

extension FuzzTargets {
    static let repositoryTargets: [FuzzTarget] = [
        FuzzTarget("tree", "a directory listing (tree blob plaintext): Tree.decode, then re-encoded") { input in
            let tree = try Tree.decode(input, what: "tree")
            reencoded(tree, tree.encoded(), { try Tree.decode($0, what: "tree") }, "tree")
        },
        FuzzTarget("index", "an index file's plaintext: IndexContents.decode, merged into a BlobIndex, re-encoded") { input in
            let contents = try IndexContents.decode(input, what: "index")
            var index = BlobIndex()
            index.add(contents, file: FuzzFixtures.indexID)
            _ = index.contents()
            reencoded(contents, contents.encoded(), { try IndexContents.decode($0, what: "index") }, "index")
        },
        FuzzTarget("pack-header", "a pack header's plaintext: Pack.decodeHeader, re-encoded") { input in
            let entries = try Pack.decodeHeader(input, pack: FuzzFixtures.packID, what: "pack header")
            reencoded(entries, Pack.encodeHeader(entries), { try Pack.decodeHeader($0, pack: FuzzFixtures.packID, what: "pack header") }, "pack header")
        },
        FuzzTarget("pack", "a whole pack file, read as Repository reads it: header from the end, authenticated under the fixed key, then each blob") { input in
            let repository = FuzzFixtures.repository
            let key = Layout.pack(FuzzFixtures.tenant, FuzzFixtures.packID)
            try FuzzFixtures.store.put(key, input)
            let (entries, size) = try repository.readPackHeader(FuzzFixtures.packID)
            invariant(size == input.count, "pack size")
            let packKey = try repository.packKey(FuzzFixtures.packID)
            for entry in entries {
                let location = entry.location
                let sealed = try FuzzFixtures.store.get(key, range: location.offset..<(location.offset + location.sealedLength))
                let plaintext = try sealed.withUnsafeBytes { try repository.openBlob($0, id: entry.id, location: location, packKey: packKey) }
                invariant(plaintext.count == location.plainLength, "blob length")
            }
        },
        FuzzTarget("lz4", "an LZ4 block as a compressed blob holds it (3 bytes little-endian: the declared length, capped at a chunk; then the block): LZ4.decompress; and the block's bytes through the compressor and back") { input in
            guard input.count >= 3 else { throw LZ4Error.truncated }
            let declared = min(Int(input[0]) | Int(input[1]) << 8 | Int(input[2]) << 16, BlobCompression.maximumUncompressedLength)
            let block = Array(input.dropFirst(3))
            // What Lethe writes must decode to what it was made from, whatever the input.
            for compressed in [LZ4.compress(block), block.withUnsafeBytes { BlobCompression.standard.compress($0) }] {
                guard let compressed else { continue }
                do {
                    let decoded = try LZ4.decompress(compressed, uncompressedLength: block.count)
                    invariant(decoded == block, "a compressed block decodes to something else")
                } catch {
                    fatalError("invariant broken: a compressed block does not decode: \(error)")
                }
            }
            let output = try LZ4.decompress(block, uncompressedLength: declared)
            invariant(output.count == declared, "decoded length")
        },
        FuzzTarget("sealed-object", "a sealed object (snapshot, index, tenant record, lock, erasure ledger), opened under the fixed key by kind (byte 5), then decoded") { input in
            let repository = FuzzFixtures.repository
            let tenant = FuzzFixtures.tenant
            let kind = input.count > 5 ? ObjectKind(rawValue: input[5]) ?? .snapshot : .snapshot
            switch kind {
            case .snapshot:
                try FuzzFixtures.store.put(Layout.snapshot(tenant, FuzzFixtures.snapshotID), input)
                _ = try repository.loadSnapshot(FuzzFixtures.snapshotID)
            case .index:
                try FuzzFixtures.store.put(Layout.index(tenant, FuzzFixtures.indexID), input)
                _ = try repository.readIndex(FuzzFixtures.indexID)
            case .tenantRecord:
                let key = Layout.record(tenant)
                try FuzzFixtures.store.put(key, input)
                _ = try TenantRecord.decode(try repository.getSealed(kind: .tenantRecord, name: tenant.rawValue, at: key), key: key)
            case .lock:
                let key = try Layout.lockPrefix(tenant).appending(FuzzFixtures.lockName)
                try FuzzFixtures.store.put(key, input)
                let plaintext = try repository.getSealed(kind: .lock, name: FuzzFixtures.lockName, at: key)
                _ = try accepted(try? JSONDecoder().decode(TenantLock.Holder.self, from: Data(plaintext)), by: "TenantLock.Holder")
            case .erasureLedger:
                let key = Layout.erasureLedger(tenant)
                try FuzzFixtures.store.put(key, input)
                let plaintext = try repository.getSealed(kind: .erasureLedger, name: tenant.rawValue, at: key)
                _ = try accepted(try? JSONDecoder().decode(ErasureLedger.self, from: Data(plaintext)), by: "ErasureLedger")
            }
        },
        FuzzTarget("snapshot", "a snapshot's plaintext (JSON): Snapshot.decode, re-encoded") { input in
            let key = Layout.snapshot(FuzzFixtures.tenant, FuzzFixtures.snapshotID)
            let snapshot = try Snapshot.decode(input, tenant: FuzzFixtures.tenant, key: key)
            reencoded(snapshot, try canonicalJSON(snapshot), { try Snapshot.decode($0, tenant: FuzzFixtures.tenant, key: key) }, "snapshot")
        },
    ]
}
