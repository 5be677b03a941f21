import Foundation
import Glibc

/// One way S or H tampers with the golden home.
struct TamperCase: Sendable {
    enum Adversary: String, Sendable { case S, H }

    let object: String
    let kind: String
    let mutation: String
    let adversary: Adversary
    /// True for "every file" cases (one row per kind and mutation in the table).
    let everyFile: Bool
    /// The probes run first; the full set follows when they neither refuse nor prove harmlessness.
    let probes: [TamperProbe]
    /// Whether `probes` alone are enough to show the case harmless.
    let probesAreComplete: Bool
    /// Words of which one must appear in the refusal: the object, its tenant or request, its kind.
    let names: [String]
    /// Committed audit entries were changed or lost: `audit verify` must not say intact.
    let losesAudit: Bool
    let apply: @Sendable (TamperSandbox) throws -> Void
}

/// What a file of the home is, from its path relative to the home.
struct TamperKind: Sendable {
    let name: String
    let tenant: String?
    let request: String?
    var adversary: TamperCase.Adversary
    var probes: [TamperProbe]
    var complete = false
    var names: [String]
    var isAuditEntry = false

    static func of(_ path: String, golden: TamperGolden) -> TamperKind? {
        let parts = path.split(separator: "/").map(String.init)
        let base = parts.last ?? path
        var named = [path, base, String(base.prefix(12)), path.hasPrefix("store/") ? String(path.dropFirst(6)) : path]
        if parts.count == 4, parts[1] == "audit", let number = Int(base) { named.append(parts[2] == "entries" ? "entry \(number)" : "size \(number)") }
        func requestProbes(_ id: String) -> [TamperProbe] {
            switch id {
            case golden.pending: return [.executePending, .nightly]
            case golden.approved: return [.executeApproved, .nightly]
            case golden.cancelled: return [.executeCancelled, .nightly]
            default: return [.reportVerify, .nightly]
            }
        }
        func tenantProbes(_ tenant: String) -> [TamperProbe] {
            [.verifyData] + (tenant == "umbrella" ? [.restoreOther] : []) + (tenant == "globex" ? [.executeApproved] : [])
                + (tenant == "acme" ? [.executePending] : [])
        }
        // Executions read the proven log before anything else; the pending and cancelled
        // requests' are cheap and are the ones a forged log would have to unlock.
        let audit: [TamperProbe] = [.auditVerify, .executePending, .executeCancelled]
        switch (parts.count, parts.first) {
        case (_, "store") where parts.count >= 4 && parts[1] == "tenants":
            let tenant = parts[2]
            let kind: String
            switch parts[3] {
            case "data": kind = "pack"
            case "index": kind = "index"
            case "snapshots": kind = "snapshot"
            case "tenant": kind = "tenant record"
            default: return nil
            }
            return TamperKind(name: kind, tenant: tenant, request: nil, adversary: .S, probes: tenantProbes(tenant), names: named + [tenant, kind == "pack" ? "pack" : kind])
        case (4, "store") where parts[1] == "locks":
            return TamperKind(name: "lock", tenant: parts[2], request: nil, adversary: .S, probes: tenantProbes(parts[2]), names: named + [parts[2], "lock"])
        case (4, "store") where parts[1] == "destruction":
            let kind = ["request.json": "request.json", "state.json": "state.json", "sample": "sample"][parts[3]] ?? "destruction ?"
            return TamperKind(name: kind, tenant: nil, request: parts[2], adversary: .S, probes: requestProbes(parts[2]), names: named + [parts[2]])
        case (3, "store") where parts[1] == "authorizers":
            return TamperKind(
                name: base == "proposal.json" ? "proposal.json" : "registry version", tenant: nil, request: nil, adversary: .S,
                probes: [.executeApproved, .executePending, .nightly], names: named + ["registry", "authorizer"])
        case (3, "store") where parts[1] == "reports":
            let kind = "report ." + ((base as NSString).pathExtension)
            return TamperKind(name: kind, tenant: nil, request: nil, adversary: .S, probes: [.reportVerify, .auditVerify], names: named + ["report", "rpt-"])
        case (_, "store") where parts.count >= 5 && parts[1] == "audit" && parts[2] == "tile":
            // Entry bundles and hash tiles: changing or losing one changes or loses committed entries.
            let name = parts[3] == "entries" ? "audit entry bundle" : "audit hash tile"
            var kind = TamperKind(name: name, tenant: nil, request: nil, adversary: .S, probes: audit, complete: true, names: named + ["audit"])
            kind.isAuditEntry = true
            return kind
        case (4, "store") where parts[1] == "audit" && parts[2] == "checkpoints":
            return TamperKind(name: "audit checkpoints/N", tenant: nil, request: nil, adversary: .S, probes: audit, complete: true, names: named + ["audit"])
        case (3, "store") where parts[1] == "audit":
            let kind = base == "checkpoint" ? "audit/checkpoint" : "audit ?"
            return TamperKind(name: kind, tenant: nil, request: nil, adversary: .S, probes: audit, complete: true, names: named + ["audit"])
        case (_, "store") where parts.count >= 4 && parts[1] == "leases":
            // Leases coordinate workers; they decide nothing about trust.
            return TamperKind(name: "lease", tenant: nil, request: nil, adversary: .S, probes: [.nightly, .auditVerify, .executeApproved], names: named + ["lease", "held by"])
        case (_, "store") where parts.count >= 2 && parts[1] == ".staging":
            return TamperKind(name: "staging", tenant: nil, request: nil, adversary: .S, probes: TamperProbe.allCases, names: named)
        case (1, _) where base.hasPrefix("catalog.sqlite"):
            return TamperKind(name: "catalog.sqlite", tenant: nil, request: nil, adversary: .H, probes: TamperProbe.allCases, names: named + ["catalog"])
        case (1, _) where base == "lethe.json":
            return TamperKind(name: "lethe.json", tenant: nil, request: nil, adversary: .H, probes: TamperProbe.allCases, names: named + ["configuration", "Lethe home", "audit log", "audit/checkpoint"])
        case (2, "locks"):
            return TamperKind(name: "locks/*.lock", tenant: nil, request: nil, adversary: .H, probes: TamperProbe.allCases, names: named + ["lock"])
        case (1, _) where base == "nightly-last-success":
            return TamperKind(name: "nightly marker", tenant: nil, request: nil, adversary: .H, probes: TamperProbe.allCases, names: named)
        case (_, "cache"), (_, "tmp"):
            return TamperKind(name: "cache/tmp", tenant: nil, request: nil, adversary: .H, probes: TamperProbe.allCases, names: named)
        default:
            return nil
        }
    }
}

// MARK: Mutations

enum Mutate {
    static func flip(_ path: String) -> @Sendable (TamperSandbox) throws -> Void {
        { box in try writeBytes("\(box.home)/\(path)", readBytes("\(box.home)/\(path)").flippingMiddleByte()) }
    }

    static func delete(_ path: String) -> @Sendable (TamperSandbox) throws -> Void {
        { box in try FileManager.default.removeItem(atPath: "\(box.home)/\(path)") }
    }

    /// Puts back the copy of `path` the early home had (removing it if it had none).
    static func rollBack(_ path: String) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            let early = "\(box.golden.early)/\(path)"
            removeTree("\(box.home)/\(path)")
            if FileManager.default.fileExists(atPath: early) { try copyTree(early, to: "\(box.home)/\(path)") }
            // lethe.json is signed for the golden home's paths: this copy's own signed one goes
            // back in its place (relocating with lethe would itself trip over the rollback).
            if path.isEmpty || path == "lethe.json" {
                removeTree("\(box.home)/lethe.json")
                try FileManager.default.copyItem(atPath: box.relocated, toPath: "\(box.home)/lethe.json")
            }
        }
    }

    static func copy(_ path: String, to target: String) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            removeTree("\(box.home)/\(target)")
            try FileManager.default.createDirectory(atPath: ("\(box.home)/\(target)" as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try copyTree("\(box.home)/\(path)", to: "\(box.home)/\(target)")
        }
    }

    static func move(_ path: String, to target: String) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            try copy(path, to: target)(box)
            removeTree("\(box.home)/\(path)")
        }
    }

    static func swap(_ first: String, _ second: String) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            let a = readBytes("\(box.home)/\(first)")
            try writeBytes("\(box.home)/\(first)", readBytes("\(box.home)/\(second)"))
            try writeBytes("\(box.home)/\(second)", a)
        }
    }

    static func replaceText(_ path: String, _ old: String, _ new: String) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            let text = readText("\(box.home)/\(path)")
            guard text.contains(old) else { throw E2EError("\(path) does not contain \(old)") }
            try writeBytes("\(box.home)/\(path)", Array(text.replacingOccurrences(of: old, with: new).utf8))
        }
    }

    /// Edits a JSON object file and writes it back sorted, without escaped slashes.
    static func json(_ path: String, _ change: @escaping @Sendable (inout [String: Any]) throws -> Void) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            guard var object = try JSONSerialization.jsonObject(with: Data(readBytes("\(box.home)/\(path)"))) as? [String: Any] else {
                throw E2EError("\(path) is not a JSON object")
            }
            try change(&object)
            try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]).write(to: URL(fileURLWithPath: "\(box.home)/\(path)"))
        }
    }

    /// Rewrites the document inside a signed envelope (its `document` field, base64), keeping
    /// the signature: what S can do without the service key.
    static func signedDocument(_ path: String, field: String = "document", _ old: String, _ new: String) -> @Sendable (TamperSandbox) throws -> Void {
        json(path) { envelope in
            guard let encoded = envelope[field] as? String, let data = Data(base64Encoded: encoded) else { throw E2EError("\(path) has no \(field)") }
            let text = String(decoding: data, as: UTF8.self)
            guard text.contains(old) else { throw E2EError("the document of \(path) does not contain \(old)") }
            envelope[field] = Data(text.replacingOccurrences(of: old, with: new).utf8).base64EncodedString()
        }
    }

    static func sql(_ statement: String) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            let run = E2EHome.run("/usr/bin/sqlite3", ["\(box.home)/catalog.sqlite", statement])
            guard run.status == 0 else { throw E2EError("sqlite3 \(statement): \(run.output)") }
        }
    }

    static func configuration(_ change: @escaping @Sendable (inout [String: Any], TamperSandbox) throws -> Void) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            let path = "\(box.home)/lethe.json"
            guard var object = try JSONSerialization.jsonObject(with: Data(readBytes(path))) as? [String: Any] else { throw E2EError("lethe.json") }
            try change(&object, box)
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]).write(to: URL(fileURLWithPath: path))
        }
    }

    /// Rewrites entry bundle `path` with its entries changed by `change`, lengths re-encoded,
    /// under the same name: an edit only the Merkle tree can tell.
    static func bundle(_ path: String, _ change: @escaping @Sendable (inout [[UInt8]]) throws -> Void) -> @Sendable (TamperSandbox) throws -> Void {
        { box in
            var entries = AuditBundle.decode(readBytes("\(box.home)/\(path)"))
            try change(&entries)
            try writeBytes("\(box.home)/\(path)", AuditBundle.encode(entries))
        }
    }

    static func all(_ steps: (@Sendable (TamperSandbox) throws -> Void)...) -> @Sendable (TamperSandbox) throws -> Void {
        { box in for step in steps { try step(box) } }
    }
}

/// C2SP tlog-tiles entry bundles, as the tamper cases read and write them.
enum AuditBundle {
    static func decode(_ bytes: [UInt8]) -> [[UInt8]] {
        var entries: [[UInt8]] = []
        var offset = 0
        while offset + 2 <= bytes.count {
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            guard offset + 2 + length <= bytes.count else { break }
            entries.append(Array(bytes[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
        return entries
    }

    static func encode(_ entries: [[UInt8]]) -> [UInt8] {
        entries.flatMap { [UInt8($0.count >> 8), UInt8($0.count & 0xff)] + $0 }
    }

    /// `x001/x234/067` for 1234067.
    static func path(_ index: Int) -> String {
        var groups: [String] = []
        var rest = index
        repeat {
            groups.insert(String(format: "%03d", rest % 1000), at: 0)
            rest /= 1000
        } while rest > 0
        return groups.enumerated().map { $0.offset < groups.count - 1 ? "x" + $0.element : $0.element }.joined(separator: "/")
    }

    /// The bundle (`level` nil) or hash tile of level `level` holding node `index` of its level
    /// in a tree of `size` entries.
    static func tile(level: Int?, holding index: Int, size: Int) -> String {
        let nodes = size >> (8 * (level ?? 0))
        let tile = index / 256
        let width = min(256, nodes - tile * 256)
        let base = "store/audit/tile/\(level.map(String.init) ?? "entries")/\(path(tile))"
        return width == 256 ? base : "\(base).p/\(width)"
    }
}
