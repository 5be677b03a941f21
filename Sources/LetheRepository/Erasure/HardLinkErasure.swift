import LetheStore

/// The other names of erased or filtered files. Rules match paths, but a file with several
/// hard links is one file under several paths: a name no rule matches would otherwise be
/// written with the original bytes of a file the ledger erases or filters. So, before a
/// restore, export or purge plans anything, the whole snapshot is walked once (erased
/// directories included, and from the root even for a restore of a subpath) and every file
/// with more than one link that a path rule erases or a content rule selects is noted; a node
/// that is another name of one of them (`Node.isHardLink(of:)`) is treated the same way.
struct HardLinkErasure {
    /// Erased files with several links, by device and inode.
    private var erased: [[UInt64]: [Node]] = [:]
    /// Files with several links that content rules select, with those rules.
    private var selected: [[UInt64]: [(node: Node, rules: [ErasureFilter.Rule])]] = [:]

    init(filter: ErasureFilter, root: BlobID, repository: Repository) throws {
        var pending: [(path: String, node: Node, erased: Bool)] = try repository.loadTree(root).nodes.map { ($0.name, $0, false) }
        while let (path, node, inErased) = pending.popLast() {
            let isErased = inErased || filter.erases(path)
            switch node.kind {
            case .directory:
                // A directory without a tree is an integrity error the plan's own walk reports.
                guard let subtree = node.subtree else { continue }
                pending += try repository.loadTree(subtree).nodes.map { ("\(path)/\($0.name)", $0, isErased) }
            case .file where node.links > 1:
                let key = [node.device, node.inode]
                if isErased {
                    erased[key, default: []].append(node)
                } else {
                    let rules = filter.contentRules(for: path)
                    if !rules.isEmpty { selected[key, default: []].append((node, rules)) }
                }
            default:
                break
            }
        }
    }

    /// Whether `node` is another name of a file a path rule erases.
    func erases(_ node: Node) -> Bool {
        guard node.kind == .file, node.links > 1 else { return false }
        return erased[[node.device, node.inode]]?.contains { node.isHardLink(of: $0) } == true
    }

    /// The content rules for `node`: its own (`own`, from its path) and those of every other
    /// name of it, each once, in ledger order.
    func rules(for node: Node, own: [ErasureFilter.Rule]) -> [ErasureFilter.Rule] {
        guard node.kind == .file, node.links > 1, let names = selected[[node.device, node.inode]] else { return own }
        var byNumber: [Int: ErasureFilter.Rule] = [:]
        for rule in own { byNumber[rule.number] = rule }
        for name in names where node.isHardLink(of: name.node) {
            for rule in name.rules { byNumber[rule.number] = rule }
        }
        return byNumber.keys.sorted().map { byNumber[$0]! }
    }
}
