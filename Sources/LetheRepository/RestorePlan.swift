import LetheStore

extension Restorer {
    /// What a restore will write, read from the snapshot's trees before anything is written:
    /// the counts an audit entry records, and every directory, file and link with its place.
    ///
    /// A plan carries the repository it was read from, so `execute` reads content under the
    /// same tenant's key and index. Directories are listed parents first, in the order of a
    /// depth-first walk by name, which is the order they are created in. A file that is another
    /// name of a file met earlier in the walk (`Node.isHardLink(of:)`) is a link entry, made
    /// with `linkat` once the files are written.
    public struct Plan {
        /// Files, the other names of hard-linked files included.
        public var files: Int { fileEntries.count + linkEntries.count }
        /// Of `files`, those restored as another name of a file written before.
        public var hardLinks: Int { linkEntries.count }
        public var directories: Int { directoryEntries.count }
        public var symlinks: Int { symlinkEntries.count }
        /// Bytes of file content.
        public let bytes: Int
        /// The target directory, absolute.
        public let target: String

        let options: Options
        let repository: Repository
        let directoryEntries: [Entry]
        let fileEntries: [Entry]
        let symlinkEntries: [Entry]
        /// The erasure rules that change each file's content, by index in `fileEntries`.
        let contentRules: [Int: [ErasureFilter.Rule]]
        /// What the erasure ledger will do (rows changed filled in by `execute`), or nil.
        public let erasure: ErasureOutcome?
        /// Each with the index in `fileEntries` of the file it is another name of.
        let linkEntries: [(entry: Entry, file: Int)]
        /// The snapshot root's attributes, applied to the target last; nil for a restore of a
        /// subpath (the target stands for no directory of the snapshot) or a snapshot that has
        /// none (written before they were recorded, or whose root is made of named sources).
        let rootAttributes: DirectoryAttributes?
    }

    /// One directory, file or link of a plan. Its path is not stored but spelled out from its
    /// parents when needed (`Plan.path(of:)`): stored, the paths of a tree thousands of levels
    /// deep would take memory growing with the square of its depth.
    struct Entry: Sendable {
        /// The directory it is in: an index into `Plan.directoryEntries`, or nil for the target.
        let parent: Int?
        let node: Node
    }
}

extension Restorer.Plan {
    /// Walks the snapshot's trees below `options.subpath` (all of them without one). The walk
    /// keeps its own stack, so a tree thousands of directories deep does not exhaust the
    /// thread's.
    init(reading snapshot: Snapshot, options: Restorer.Options, target: String, from repository: Repository) throws {
        guard let rootID = snapshot.treeID else { throw LetheError.integrity("snapshot has no root tree") }
        var directories: [Restorer.Entry] = []
        var files: [Restorer.Entry] = []
        var symlinks: [Restorer.Entry] = []
        let filter = options.erasure.flatMap { $0.isEmpty ? nil : $0 }
        var outcome = filter?.outcome()
        var contentRules: [Int: [ErasureFilter.Rule]] = [:]
        var links: [(entry: Restorer.Entry, file: Int)] = []
        // The first name of each file with several links, by device and inode.
        var linked: [[UInt64]: Int] = [:]
        // The other names of hard-linked files the ledger erases or filters.
        let hardLinks = try filter.map { try HardLinkErasure(filter: $0, root: rootID, repository: repository) }

        // The directories leading to the subpath are restored too, each with its own metadata.
        var tree = try repository.loadTree(rootID)
        var start: [Restorer.Entry] = []
        var parent: Int?
        let components = (options.subpath ?? "").split(separator: "/").map(String.init).filter { $0 != "." }
        for (position, component) in components.enumerated() {
            let path = components[0...position].joined(separator: "/")
            guard let node = tree.node(named: component) else { throw LetheError.usage("\(path) is not in the snapshot") }
            // An erased path is not in the snapshot as far as a restore is concerned; nor is
            // anything below it.
            if filter?.erases(path) == true {
                outcome?.entriesLeftOut += 1
                start = []
                break
            }
            if position == components.count - 1 {
                start = [Restorer.Entry(parent: parent, node: node)]
            } else {
                guard node.kind == .directory, let subtree = node.subtree else { throw LetheError.usage("\(path) is not a directory") }
                directories.append(Restorer.Entry(parent: parent, node: node))
                parent = directories.count - 1
                tree = try repository.loadTree(subtree)
            }
        }
        if components.isEmpty {
            start = tree.nodes.map { Restorer.Entry(parent: nil, node: $0) }
        }

        // Depth first, by name: what is still to visit, the next one last.
        var pending = Array(start.reversed())
        while let entry = pending.popLast() {
            // The erasure rules that change this file's content, if any.
            var fileRules: (path: String, rules: [ErasureFilter.Rule])?
            if let filter {
                let path = Restorer.Plan.path(of: entry, in: directories)
                guard let rules = try filter.treatment(of: entry.node, at: path, hardLinks: hardLinks) else {
                    outcome?.entriesLeftOut += 1
                    continue
                }
                if !rules.isEmpty { fileRules = (path, rules) }
            }
            switch entry.node.kind {
            case .directory:
                guard let subtree = entry.node.subtree else {
                    throw LetheError.integrity("directory \(Restorer.Plan.path(of: entry, in: directories)) has no tree")
                }
                directories.append(entry)
                let index = directories.count - 1
                for child in try repository.loadTree(subtree).nodes.reversed() {
                    pending.append(Restorer.Entry(parent: index, node: child))
                }
            case .file:
                // A name with erasure rules is written with its own content, and nothing is
                // linked to it: a link would give every name the content of one.
                if let fileRules {
                    contentRules[files.count] = fileRules.rules
                    outcome?.files.append(ErasureOutcome.File(path: fileRules.path, rules: fileRules.rules.map(\.number), changed: 0))
                } else if entry.node.links > 1 {
                    let key = [entry.node.device, entry.node.inode]
                    if let first = linked[key], entry.node.isHardLink(of: files[first].node) {
                        links.append((entry, first))
                        continue
                    }
                    if linked[key] == nil { linked[key] = files.count }
                }
                files.append(entry)
            case .symlink:
                symlinks.append(entry)
            }
        }
        self.init(
            bytes: files.reduce(0) { $0 + $1.node.size } + links.reduce(0) { $0 + $1.entry.node.size }, target: target,
            options: options, repository: repository, directoryEntries: directories, fileEntries: files,
            symlinkEntries: symlinks, contentRules: contentRules, erasure: outcome, linkEntries: links,
            rootAttributes: components.isEmpty ? tree.attributes : nil)
    }

    /// The path of `entry` below the target (`docs/report.txt`).
    func path(of entry: Restorer.Entry) -> String {
        Restorer.Plan.path(of: entry, in: directoryEntries)
    }

    private static func path(of entry: Restorer.Entry, in directories: [Restorer.Entry]) -> String {
        var names = [entry.node.name]
        var parent = entry.parent
        while let index = parent {
            names.append(directories[index].node.name)
            parent = directories[index].parent
        }
        return names.reversed().joined(separator: "/")
    }
}
