import Glibc
import LetheStore

/// The raw entries of a directory, names kept as bytes so that a name that is not UTF-8 is
/// reported instead of silently altered.
enum DirectoryEntries {
    struct Entry {
        let raw: [UInt8]
        /// nil when the name is not valid UTF-8.
        let name: String?
    }

    static func list(_ path: String) throws -> [Entry] {
        guard let stream = opendir(path) else { throw SystemError("list", path) }
        defer { closedir(stream) }
        var entries: [Entry] = []
        while let entry = readdir(stream) {
            let raw = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if raw == [0x2e] || raw == [0x2e, 0x2e] { continue }
            entries.append(Entry(raw: raw, name: String(validating: raw, as: UTF8.self)))
        }
        return entries.sorted { $0.raw.lexicographicallyPrecedes($1.raw) }
    }
}

extension FileTime {
    init(_ time: timespec) {
        self.init(seconds: Int64(time.tv_sec), nanoseconds: Int32(time.tv_nsec))
    }

    var timespec: timespec {
        Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
    }
}
