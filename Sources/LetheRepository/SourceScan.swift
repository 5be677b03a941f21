import Glibc

/// What a backup of some sources will go through, counted by walking them with `lstat` only,
/// nothing opened: the totals a progress line needs for its rate and ETA, found by a thread
/// beside the backup as restic does. An estimate: files that change or vanish meanwhile, and
/// entries the archiver skips, make it differ a little from the snapshot's own counts.
public enum SourceScan {
    public struct Totals: Sendable, Equatable {
        public var bytes = 0
        public var files = 0
    }

    /// The regular files and their bytes under the sources; nil when one of them has no size
    /// before it runs (a command source).
    public static func totals(of sources: [TenantSource]) -> Totals? {
        var totals = Totals()
        for source in sources {
            switch source.kind {
            case .directory:
                walk(source.location, into: &totals)
            case .sqlite:
                var info = stat()
                if lstat(source.location, &info) == 0 {
                    totals.bytes += Int(info.st_size)
                    totals.files += 1
                }
            case .command:
                return nil
            }
        }
        return totals
    }

    /// Depth-first, never following a symbolic link; unreadable folders count as empty.
    private static func walk(_ path: String, into totals: inout Totals) {
        guard let directory = opendir(path) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            let child = path.hasSuffix("/") ? path + name : path + "/" + name
            var info = stat()
            guard lstat(child, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                totals.bytes += Int(info.st_size)
                totals.files += 1
            case S_IFDIR:
                walk(child, into: &totals)
            default:
                continue
            }
        }
    }
}
