import Foundation
import LetheCrypto

/// Every case of the matrix: flip and delete for every file of the home, roll-back for every
/// file the early home had in another state, and chosen semantic edits, duplicates, moves and
/// group roll-backs.
enum TamperCatalogue {
    static func cases(_ golden: TamperGolden) throws -> [TamperCase] {
        var cases: [TamperCase] = []
        let files = golden.files()
        for path in files {
            guard let kind = TamperKind.of(path, golden: golden) else { throw E2EError("the matrix does not know what \(path) is") }
            for (mutation, apply) in [("flip a byte", Mutate.flip(path)), ("delete", Mutate.delete(path))] {
                cases.append(TamperCase(
                    object: path, kind: kind.name, mutation: mutation, adversary: kind.adversary, everyFile: true, probes: kind.probes,
                    probesAreComplete: kind.complete, names: kind.names, losesAudit: kind.isAuditEntry, apply: apply))
            }
        }
        // Roll-back: every file whose earlier copy differs, or that existed only earlier.
        let early = Set(golden.files(under: golden.early))
        for path in early.union(files).sorted() where path != "lethe.json" {
            let then = readBytes("\(golden.early)/\(path)")
            let now = readBytes("\(golden.home)/\(path)")
            guard early.contains(path), !files.contains(path) || then != now, let kind = TamperKind.of(path, golden: golden) else { continue }
            cases.append(TamperCase(
                object: path, kind: kind.name, mutation: files.contains(path) ? "roll back" : "put back (deleted since)",
                adversary: kind.adversary, everyFile: true, probes: TamperProbe.allCases, probesAreComplete: false, names: kind.names,
                losesAudit: false, apply: Mutate.rollBack(path)))
        }
        cases += try chosen(golden, files: files)
        return cases
    }

    private static func chosen(_ golden: TamperGolden, files: [String]) throws -> [TamperCase] {
        func first(_ prefix: String) throws -> String {
            guard let found = files.first(where: { $0.hasPrefix(prefix) }) else { throw E2EError("the golden home has no \(prefix)…") }
            return found
        }
        func request(_ id: String, _ file: String) -> String { "store/destruction/\(id)/\(file)" }
        let (pending, approved, cancelled, completed) = (golden.pending, golden.approved, golden.cancelled, golden.completed)
        let checkpoints = files.filter { $0.hasPrefix("store/audit/checkpoints/") }
        let umbrellaPack = try first("store/tenants/umbrella/data/")
        let umbrellaSnapshot = try first("store/tenants/umbrella/snapshots/")
        let umbrellaIndex = try first("store/tenants/umbrella/index/")
        let acmeSnapshot = try first("store/tenants/acme/snapshots/")
        let report = "store/reports/\(golden.report)"
        let v1 = "store/authorizers/version-000001.json"
        let v2 = "store/authorizers/version-000002.json"
        @Sendable func padded(_ n: Int) -> String { String(repeating: "0", count: 20 - String(n).count) + String(n) }
        let committed = try golden.auditSize()
        @Sendable func bundle(_ index: Int) -> String { AuditBundle.tile(level: nil, holding: index, size: committed) }
        @Sendable func hashTile(_ index: Int) -> String { AuditBundle.tile(level: 0, holding: index, size: committed) }
        let carl = try fingerprint("\(golden.root)/carl.pub.pem")

        var list: [TamperCase] = []
        func add(
            _ object: String, _ mutation: String, by adversary: TamperCase.Adversary = .S, names: [String] = [], losesAudit: Bool = false,
            _ apply: @escaping @Sendable (TamperSandbox) throws -> Void
        ) {
            let kind = TamperKind.of(object, golden: golden)
            list.append(TamperCase(
                object: object, kind: kind?.name ?? object, mutation: mutation, adversary: adversary, everyFile: false,
                probes: TamperProbe.allCases, probesAreComplete: false,
                names: (kind?.names ?? [object, String(object.dropFirst(6))]) + names, losesAudit: losesAudit, apply: apply))
        }

        // Destruction requests.
        add(request(pending, "state.json"), "edit: pending → approved (signature kept)",
            Mutate.signedDocument(request(pending, "state.json"), "\"status\":\"pending\"",
                                  "\"approved\":{\"approvedAt\":\"2026-03-05T14:00:00Z\",\"executableAfter\":\"2026-03-05T15:00:00Z\"},\"status\":\"approved\""))
        add(request(pending, "state.json"), "swap with the approved request's", Mutate.swap(request(pending, "state.json"), request(approved, "state.json")))
        add(request(pending, "state.json"), "move the approved request's here", Mutate.move(request(approved, "state.json"), to: request(pending, "state.json")))
        add(request(cancelled, "state.json"), "move the approved request's here", Mutate.copy(request(approved, "state.json"), to: request(cancelled, "state.json")))
        add(request(pending, "request.json"), "edit: policy 2 approvals → 1", Mutate.replaceText(request(pending, "request.json"), "\"required\":2", "\"required\":1"))
        add(request(pending, "request.json"), "replace with the cancelled request's", Mutate.copy(request(cancelled, "request.json"), to: request(pending, "request.json")))
        add("store/destruction/\(approved)", "duplicate as dr-20260305-0badc0de", names: ["0badc0de"],
            Mutate.copy("store/destruction/\(approved)", to: "store/destruction/dr-20260305-0badc0de"))
        add("store/destruction/\(completed)", "duplicate as dr-20260303-0badc0de", names: ["0badc0de"],
            Mutate.copy("store/destruction/\(completed)", to: "store/destruction/dr-20260303-0badc0de"))
        add("store/destruction", "roll back the whole folder", names: ["destruction/"], Mutate.rollBack("store/destruction"))
        add("store/destruction/\(cancelled)", "roll back (cancelled → approved)", Mutate.rollBack("store/destruction/\(cancelled)"))

        // The authorizer registry.
        add(v2, "replace with version 1", Mutate.copy(v1, to: v2))
        add(v2, "swap with version 1", Mutate.swap(v1, v2))
        add(v2, "edit: drop erin's signature", Mutate.json(v2) { envelope in
            envelope["signatures"] = ((envelope["signatures"] as? [[String: Any]]) ?? []).filter { $0["authorizer"] as? String != "erin" }
        })
        add(v2, "edit: policy 2 → 1 approvals (service signature kept)", Mutate.signedDocument(v2, "\"required\":2", "\"required\":1"))
        add("store/authorizers/version-000003.json", "plant a self-made version 3 (no service signature)", Mutate.all(
            Mutate.copy(v2, to: "store/authorizers/version-000003.json"),
            Mutate.signedDocument("store/authorizers/version-000003.json", "\"version\":2", "\"version\":3")))
        add("store/authorizers/version-000003.json", "plant version 2 again as version 3", Mutate.copy(v2, to: "store/authorizers/version-000003.json"))
        add("store/authorizers", "roll back the whole folder (version 1 + proposal)", names: ["registry"], Mutate.rollBack("store/authorizers"))
        add("store/authorizers/proposal.json", "plant version 2's envelope as a proposal", Mutate.copy(v2, to: "store/authorizers/proposal.json"))

        // Reports.
        add("\(report).json", "edit: tenant name (JSON re-encoded)", Mutate.json("\(report).json") { object in
            var tenant = object["tenant"] as? [String: Any] ?? [:]
            tenant["name"] = "Someone Else"
            object["tenant"] = tenant
        })
        add("\(report).json", "edit: a verification check failed → passed", Mutate.replaceText("\(report).json", "\"passed\":true", "\"passed\":false"))
        add("\(report).sig", "replace with mallory's signature", { box in
            _ = E2EHome.run("/usr/bin/openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", "\(golden.root)/mallory.pem", "-in", "\(box.home)/\(report).json", "-out", "\(box.home)/\(report).sig"])
        })
        add("\(report).json", "duplicate as rpt-20260303-0badc0de", names: ["0badc0de"], Mutate.all(
            Mutate.copy("\(report).json", to: "store/reports/rpt-20260303-0badc0de.json"),
            Mutate.copy("\(report).sig", to: "store/reports/rpt-20260303-0badc0de.sig")))
        add("\(report).html", "edit: the rendering names another tenant", Mutate.replaceText("\(report).html", "initech", "umbrella"))

        // The audit log.
        add(bundle(3), "edit: actor of entry 3 (lengths re-encoded)", losesAudit: true, Mutate.bundle(bundle(3)) { entries in
            entries[3] = Array(String(decoding: entries[3], as: UTF8.self).replacingOccurrences(of: "e2e-tester", with: "someone-else").utf8)
        })
        add(bundle(5), "swap entries 5 and 6", losesAudit: true, Mutate.bundle(bundle(5)) { entries in entries.swapAt(5, 6) })
        add(bundle(3), "edit entry 3 and its hash in the tile to match", losesAudit: true, Mutate.all(
            Mutate.bundle(bundle(3)) { entries in
                entries[3] = Array(String(decoding: entries[3], as: UTF8.self).replacingOccurrences(of: "e2e-tester", with: "e2e-hacker").utf8)
            },
            { box in
                let entries = AuditBundle.decode(readBytes("\(box.home)/\(bundle(3))"))
                var tile = readBytes("\(box.home)/\(hashTile(3))")
                let leaf = try SHA256.hash([0] + entries[3])
                tile.replaceSubrange((3 * 32)..<(4 * 32), with: leaf)
                try writeBytes("\(box.home)/\(hashTile(3))", tile)
            }))
        let past = AuditBundle.tile(level: nil, holding: committed, size: committed + 1)
        add(past, "plant an approval by carl of the pending request past the checkpoint", { box in
            let fake: [String: Any] = [
                "actor": "e2e-tester", "index": committed, "operation": "destroy.approve", "tenant": "acme", "time": "2026-03-05T14:00:00Z",
                "details": [
                    "authorizer": "carl", "role": "officer", "fingerprint": carl, "signature": Data(repeating: 7, count: 64).base64EncodedString(),
                    "registryVersion": "1", "request": pending, "sequence": "3", "status": "approved", "executableAfter": "2026-03-06T14:00:00Z",
                ],
            ]
            let entry = Array(try JSONSerialization.data(withJSONObject: fake, options: [.sortedKeys, .withoutEscapingSlashes]))
            // The wider bundle and tile a real append would have written before signing.
            let earlier = committed % 256 == 0 ? [] : AuditBundle.decode(readBytes("\(box.home)/\(bundle(committed - 1))"))
            let tile = committed % 256 == 0 ? [] : readBytes("\(box.home)/\(hashTile(committed - 1))")
            let wider = "\(box.home)/\(past)"
            try FileManager.default.createDirectory(atPath: (wider as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try writeBytes(wider, AuditBundle.encode(earlier + [entry]))
            let widerTile = "\(box.home)/\(AuditBundle.tile(level: 0, holding: committed, size: committed + 1))"
            try FileManager.default.createDirectory(atPath: (widerTile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try writeBytes(widerTile, tile + (try SHA256.hash([0] + entry)))
        })
        let shorter = AuditBundle.tile(level: nil, holding: committed - 2, size: committed - 1)
        add(bundle(committed - 1), "truncate: drop the newest entry, its tiles and its checkpoint", losesAudit: true, { box in
            let entries = AuditBundle.decode(readBytes("\(box.home)/\(bundle(committed - 1))"))
            let tile = readBytes("\(box.home)/\(hashTile(committed - 1))")
            try Mutate.delete(bundle(committed - 1))(box)
            try Mutate.delete(hashTile(committed - 1))(box)
            let shorterTile = AuditBundle.tile(level: 0, holding: committed - 2, size: committed - 1)
            for (path, bytes) in [(shorter, AuditBundle.encode(Array(entries.dropLast()))), (shorterTile, Array(tile.dropLast(32)))] {
                try FileManager.default.createDirectory(atPath: ("\(box.home)/\(path)" as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try writeBytes("\(box.home)/\(path)", bytes)
            }
            try Mutate.delete("store/audit/checkpoints/\(padded(committed))")(box)
            try Mutate.copy("store/audit/checkpoints/\(padded(committed - 1))", to: "store/audit/checkpoint")(box)
        })
        add("store/audit", "roll back the whole log", names: ["audit log"], losesAudit: true, Mutate.rollBack("store/audit"))
        add("store/audit/checkpoint", "replace with an older checkpoint", Mutate.copy(checkpoints[checkpoints.count - 3], to: "store/audit/checkpoint"))
        add(checkpoints[4], "duplicate under another size", Mutate.copy(checkpoints[4], to: "store/audit/checkpoints/\(padded(committed + 5))"))

        // Tenant repositories.
        add(umbrellaPack, "move to acme's place", Mutate.move(umbrellaPack, to: umbrellaPack.replacingOccurrences(of: "/umbrella/", with: "/acme/")))
        add(umbrellaPack, "truncate to half", { box in
            let bytes = readBytes("\(box.home)/\(umbrellaPack)")
            try writeBytes("\(box.home)/\(umbrellaPack)", Array(bytes.prefix(bytes.count / 2)))
        })
        add(umbrellaSnapshot, "duplicate under another id", Mutate.copy(umbrellaSnapshot, to: "store/tenants/umbrella/snapshots/" + String(repeating: "ab", count: 32)))
        add(umbrellaIndex, "duplicate under another id", Mutate.copy(umbrellaIndex, to: "store/tenants/umbrella/index/" + String(repeating: "cd", count: 32)))
        add(acmeSnapshot, "move to globex's place", Mutate.move(acmeSnapshot, to: acmeSnapshot.replacingOccurrences(of: "/acme/", with: "/globex/")))
        add("store/tenants/acme/tenant", "swap with umbrella's record", Mutate.swap("store/tenants/acme/tenant", "store/tenants/umbrella/tenant"))
        add("store/tenants/umbrella", "roll back the tenant's folder", names: ["tenants/umbrella"], Mutate.rollBack("store/tenants/umbrella"))
        add("store/tenants/umbrella/snapshots", "delete every snapshot", names: ["tenants/umbrella"], { box in removeTree("\(box.home)/store/tenants/umbrella/snapshots") })
        add("store/tenants/umbrella/data/zz", "plant a symbolic link to the key directory", { box in
            try FileManager.default.createSymbolicLink(atPath: "\(box.home)/store/tenants/umbrella/data/zz", withDestinationPath: box.keys)
        })
        add("store/tenants/globex/data/zz", "plant a symbolic link in the approved tenant's prefix", { box in
            try FileManager.default.createSymbolicLink(atPath: "\(box.home)/store/tenants/globex/data/zz", withDestinationPath: "\(box.store)/tenants/acme")
        })
        if let lock = files.first(where: { $0.hasPrefix("store/locks/umbrella/") }) {
            add(lock, "duplicate into acme's locks", Mutate.copy(lock, to: lock.replacingOccurrences(of: "/umbrella/", with: "/acme/")))
        }

        // Group roll-backs.
        add("store", "roll back the whole store", names: ["audit log"], losesAudit: true, Mutate.rollBack("store"))
        add("", "roll back the whole home (key directory kept)", by: .H, names: ["audit log"], losesAudit: true, Mutate.rollBack(""))

        // H: the catalog.
        add("catalog.sqlite", "SQL: delete umbrella's tenant row", by: .H, Mutate.sql("DELETE FROM tenants WHERE id = 'umbrella'"))
        add("catalog.sqlite", "SQL: umbrella offboarded long ago, window 0", by: .H,
            Mutate.sql("UPDATE tenants SET state = 'offboarded', offboarded_at = '2026-01-01T00:00:00Z', window_days = 0 WHERE id = 'umbrella'"))
        add("catalog.sqlite", "SQL: umbrella's record JSON says offboarded long ago, window 0", by: .H, Mutate.sql(
            "UPDATE tenants SET state = 'offboarded', record = replace(record, '\"state\":\"active\"', "
                + "'\"state\":\"offboarded\",\"offboardedAt\":\"2026-01-01T00:00:00Z\",\"restoreWindowDays\":0') WHERE id = 'umbrella'"))
        add("catalog.sqlite", "SQL: umbrella's record JSON takes acme's data as its source", by: .H, Mutate.sql(
            "UPDATE tenants SET record = replace(record, '/data/umbrella', '/data/acme') WHERE id = 'umbrella'"))
        add("catalog.sqlite", "SQL: delete initech's tombstone", by: .H, Mutate.sql("DELETE FROM tombstones"))
        add("catalog.sqlite", "SQL: delete every report row", by: .H, Mutate.sql("DELETE FROM reports"))
        add("catalog.sqlite", "SQL: umbrella's snapshots dated in the future", by: .H, Mutate.sql("UPDATE snapshots SET time = '2027-01-01T00:00:00.000Z' WHERE tenant = 'umbrella'"))

        // H: the configuration.
        add("lethe.json", "edit: retention keeps 1 snapshot", by: .H, Mutate.configuration { c, _ in c["retention"] = ["keepLast": 1] })
        add("lethe.json", "edit: restoreWindowDays 0", by: .H, Mutate.configuration { c, _ in c["restoreWindowDays"] = 0 })
        add("lethe.json", "edit: installationID", by: .H, Mutate.configuration { c, _ in c["installationID"] = "00000000deadbeef" })
        add("lethe.json", "edit: storeDirectory → an empty folder", by: .H, Mutate.configuration { c, box in c["storeDirectory"] = "\(box.root)/empty-store" })
        add("lethe.json", "edit: keysDirectory → a key directory H made", by: .H, Mutate.configuration { c, box in
            removeTree("\(box.root)/h")
            _ = E2EHome.run(E2EHome.binary, ["init", "--home", "\(box.root)/h/home", "--keys", "\(box.root)/h/keys"])
            c["keysDirectory"] = "\(box.root)/h/keys"
        })
        add("lethe.json", "edit: metricsFile → the keystore", by: .H, Mutate.configuration { c, box in c["metricsFile"] = "\(box.keys)/keystore.json" })
        add("lethe.json", "edit: notifications.command copies the key directory", by: .H, Mutate.configuration { c, box in
            c["notifications"] = ["command": "cp -r '\(box.keys)' '\(box.home)/tmp/copied-keys'"]
        })

        // H: host files.
        add("locks/audit.lock", "replace with a symbolic link to the keystore", by: .H, { box in
            removeTree("\(box.home)/locks/audit.lock")
            try FileManager.default.createSymbolicLink(atPath: "\(box.home)/locks/audit.lock", withDestinationPath: "\(box.keys)/keystore.json")
        })
        add("cache/acme", "plant a cache and a temporary folder", by: .H, { box in
            try writeBytes("\(box.home)/cache/acme/leftover", Array("x".utf8))
            try writeBytes("\(box.home)/tmp/umbrella/scratch", Array("y".utf8))
        })
        return list
    }

    static func fingerprint(_ publicKey: String) throws -> String {
        try Ed25519.PublicKey(pemRepresentation: readText(publicKey)).fingerprint
    }
}
