import Foundation
import LetheStore

/// Checks that a snapshot holds nothing an erasure ledger would remove, after a purge: no path
/// a path rule matches; for each SQLite file a DELETE rule selects, `SELECT count(*)` with the
/// same `WHERE` and the same bound values returns 0 (an UPDATE rule, run again, changes no
/// row); CSV and JSON files lose no row or record to their rules. Also collects every blob the
/// snapshot references.
public struct ErasureCheck {
    public struct Finding: Codable, Sendable, Equatable {
        public let path: String
        public let problem: String
    }

    private let repository: Repository
    private let filter: ErasureFilter
    public private(set) var findings: [Finding] = []
    public private(set) var referenced = Set<BlobID>()
    public private(set) var filesChecked = 0
    /// The other names of hard-linked files the ledger erases or filters.
    private var hardLinks: HardLinkErasure?

    public init(repository: Repository, filter: ErasureFilter) {
        self.repository = repository
        self.filter = filter
    }

    public mutating func check(_ snapshot: Snapshot) throws {
        guard let root = snapshot.treeID else { throw LetheError.integrity("snapshot has no root tree") }
        try repository.loadIndex()
        hardLinks = try HardLinkErasure(filter: filter, root: root, repository: repository)
        try check(tree: root, path: "")
    }

    private mutating func check(tree id: BlobID, path: String) throws {
        referenced.insert(id)
        for node in try repository.loadTree(id).nodes {
            let nodePath = path.isEmpty ? node.name : "\(path)/\(node.name)"
            referenced.formUnion(node.content)
            if filter.erases(nodePath) || hardLinks?.erases(node) == true {
                findings.append(Finding(path: "(an erased path)", problem: "a path rule still matches an entry"))
                continue
            }
            do {
                if try SQLiteSidecar.leavesOut(nodePath, node: node, filter: filter) {
                    findings.append(Finding(path: nodePath, problem: "a -shm file beside a database the rules change is still there"))
                }
            } catch {
                findings.append(Finding(path: nodePath, problem: "a SQLite log beside a database the rules change is still there"))
            }
            if node.kind == .directory, let subtree = node.subtree { try check(tree: subtree, path: nodePath) }
            guard node.kind == .file else { continue }
            let own = filter.contentRules(for: nodePath)
            let rules = hardLinks?.rules(for: node, own: own) ?? own
            guard !rules.isEmpty else { continue }
            filesChecked += 1
            var content: [UInt8] = []
            try repository.readContent(of: node, path: nodePath) { content += $0 }
            let remaining = try ErasureCheck.remaining(rules, in: content, path: nodePath)
            if remaining > 0 {
                findings.append(Finding(path: nodePath, problem: "\(remaining) rows or records still match the rules"))
            }
        }
    }

    /// How many rows or records of `content` the rules still find.
    static func remaining(_ rules: [ErasureFilter.Rule], in content: [UInt8], path: String) throws -> Int {
        var count = 0
        var other: [ErasureFilter.Rule] = []
        var database: Database?
        for rule in rules {
            guard case .sql(let statement, let parameters, _) = rule.rule else {
                other.append(rule)
                continue
            }
            if database == nil { database = try Database.inMemory(copying: content, what: path) }
            let body = statement.trimmingTrailing(" \t\r\n;")
            if body.uppercased().hasPrefix("DELETE") {
                let query = "SELECT count(*) " + body.dropFirst("DELETE".count)
                count += try database!.prepareSingle(query).query(parameters).first?.int(0) ?? 0
            } else {
                // Run inside a savepoint rolled back: the rows it would change, left as they are.
                try database!.execute("SAVEPOINT erasure_check")
                defer { try? database!.execute("ROLLBACK TO erasure_check; RELEASE erasure_check") }
                try database!.prepareSingle(body).run(parameters)
                count += database!.changes
            }
        }
        if !other.isEmpty { count += try ErasureFilter.apply(other, to: content, path: path).changed }
        return count
    }
}
