import Foundation
import LetheStore

/// The erasure ledger of one tenant as a restore or an export applies it: which paths are
/// left out, and which rules change which file's content, in ledger order.
///
/// Built from the rules of every recorded request (oldest first) and the snapshot-root names
/// of the tenant's `sqlite:` sources, which is where a SQL rule without `--file` applies.
public struct ErasureFilter: Sendable {
    public struct Rule: Sendable {
        /// The rule's number in the ledger (1 for the first rule of the first request).
        public let number: Int
        public let rule: ErasureRule
        let glob: PathGlob?
    }

    public let rules: [Rule]
    /// The ledger version the rules come from.
    public let ledgerVersion: Int
    let sqliteSources: Set<String>

    /// `rules` in ledger order. Fails on a rule whose glob cannot be used (which `erase
    /// request` refuses, so only a damaged ledger has one).
    public init(rules: [ErasureRule], sqliteSources: [String], ledgerVersion: Int) throws {
        self.ledgerVersion = ledgerVersion
        self.rules = try rules.enumerated().map { offset, rule in
            let glob: String?
            switch rule {
            case .sql(_, _, let files): glob = files
            case .path(let pattern): glob = pattern
            case .csvRows(let files, _, _), .jsonRecords(let files, _, _): glob = files
            }
            return Rule(number: offset + 1, rule: rule, glob: try glob.map(PathGlob.init))
        }
        self.sqliteSources = Set(sqliteSources)
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// An outcome with nothing applied yet.
    func outcome() -> ErasureOutcome {
        ErasureOutcome(rulesInForce: rules.count, ledgerVersion: ledgerVersion)
    }

    /// Whether the entry at `path` (a file, link or directory with everything in it) is left out.
    public func erases(_ path: String) -> Bool {
        rules.contains { rule in
            if case .path = rule.rule { return rule.glob?.matches(path) == true }
            return false
        }
    }

    /// What a restore or an export does with the entry `node` at `path`: nil when the ledger
    /// leaves it out (an erased path, a SQLite sidecar of a filtered database, another name of
    /// an erased or filtered hard-linked file), else the rules that change its content (none
    /// for a directory or a link). The one decision both walks take.
    func treatment(of node: Node, at path: String, hardLinks: HardLinkErasure?) throws -> [Rule]? {
        if erases(path) { return nil }
        if try SQLiteSidecar.leavesOut(path, node: node, filter: self) { return nil }
        guard node.kind == .file else { return [] }
        if hardLinks?.erases(node) == true { return nil }
        let own = contentRules(for: path)
        return hardLinks?.rules(for: node, own: own) ?? own
    }

    /// The rules that change the content of the file at `path`, in ledger order.
    public func contentRules(for path: String) -> [Rule] {
        rules.filter { rule in
            switch rule.rule {
            case .path: return false
            case .sql(_, _, nil): return sqliteSources.contains(path)
            default: return rule.glob?.matches(path) == true
            }
        }
    }

    /// `content`, the whole file at `path`, with `rules` (from `contentRules(for:)`) applied,
    /// and how many rows or records they removed or changed. One file is one kind: SQL rules
    /// and row or record rules on the same file are refused, as one of them could not read it.
    public static func apply(_ rules: [Rule], to content: [UInt8], path: String) throws -> (bytes: [UInt8], changed: Int) {
        let sql = rules.compactMap { rule -> SQLiteEraser.Statement? in
            if case .sql(let statement, let parameters, _) = rule.rule { return SQLiteEraser.Statement(sql: statement, parameters: parameters) }
            return nil
        }
        if !sql.isEmpty {
            guard sql.count == rules.count else {
                throw LetheError.failed("erasure: \(path) is selected by both SQL rules and CSV or JSON rules; it is not released")
            }
            return try SQLiteEraser.apply(sql, to: content, path: path)
        }
        var bytes = content
        var changed = 0
        for rule in rules {
            let result: (bytes: [UInt8], removed: Int)
            switch rule.rule {
            case .csvRows(_, let column, let value):
                result = try CSVRowFilter.filter(bytes, column: column, value: value, path: path)
            case .jsonRecords(_, let field, let value):
                result = try JSONRecordFilter.filter(bytes, field: field, value: value, path: path)
            case .sql, .path:
                continue
            }
            bytes = result.bytes
            changed += result.removed
        }
        return (bytes, changed)
    }
}

/// What a restore or an export did with the ledger: the rules in force, how many entries it
/// left out, and for each file it changed, which rules and how many rows or records. Holds
/// no personal data: no erased path, no value.
public struct ErasureOutcome: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public let path: String
        /// The ledger numbers of the rules applied, in order.
        public let rules: [Int]
        /// Rows or records removed or changed.
        public var changed: Int
    }

    public var rulesInForce = 0
    public var ledgerVersion = 0
    /// Files, links and directories left out by path rules (each directory counted once,
    /// with everything in it), other names of erased files, and `-shm` files beside a
    /// database SQL rules change.
    public var entriesLeftOut = 0
    public var files: [File] = []

    public init(rulesInForce: Int = 0, ledgerVersion: Int = 0) {
        self.rulesInForce = rulesInForce
        self.ledgerVersion = ledgerVersion
    }

    /// The audit-log form: `db/app.sqlite:1,2;exports/contacts.csv:3`.
    public var auditDetails: [String: String] {
        guard rulesInForce > 0 else { return [:] }
        return [
            "erasureLedgerVersion": String(ledgerVersion), "erasureRules": String(rulesInForce),
            "erasureEntriesLeftOut": String(entriesLeftOut),
            "erasureFiles": files.map { "\($0.path):" + $0.rules.map(String.init).joined(separator: ",") }.joined(separator: ";"),
        ]
    }
}

/// Collects the rows changed per file from the restore's two workers.
final class ErasureTally: @unchecked Sendable {
    private let lock = NSLock()
    private var changed: [String: Int] = [:]

    func add(_ count: Int, for path: String) {
        lock.withLock { changed[path, default: 0] += count }
    }

    func fill(_ outcome: ErasureOutcome) -> ErasureOutcome {
        var outcome = outcome
        lock.withLock {
            for index in outcome.files.indices { outcome.files[index].changed = changed[outcome.files[index].path] ?? 0 }
        }
        return outcome
    }
}
