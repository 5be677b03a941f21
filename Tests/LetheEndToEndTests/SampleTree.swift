import Foundation
import Glibc

/// A small tree with what trips up backup tools: nested and empty directories, an empty file,
/// non-ASCII and space-containing names, a relative symlink, several permission modes, exact
/// modification times, and optionally a large random file spanning several chunks and packs.
enum SampleTree {
    static func make(at root: String, seed: UInt64, bigFile: Int = 0) throws {
        var random = SeededBytes(seed: seed)
        let fm = FileManager.default
        for directory in ["docs/contracts", "exports/2026-10", "uploads", "empty folder", "deep/a/b/c/d"] {
            try fm.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        func file(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, mtime: Int = 1_760_000_000) throws {
            let full = "\(root)/\(path)"
            try Data(bytes).write(to: URL(fileURLWithPath: full))
            chmod(full, mode)
            var times = [timespec(tv_sec: mtime, tv_nsec: 123_456_789), timespec(tv_sec: mtime, tv_nsec: 123_456_789)]
            utimensat(AT_FDCWD, full, &times, 0)
        }
        try file("docs/notes.md", Array("Meeting notes\n\nRenewal discussed.\n".utf8))
        try file("docs/contracts/Müller Vertrag.txt", Array("Vertrag für Müller & Söhne\n".utf8), mode: 0o640)
        try file("docs/日本語.md", Array("日本語のテキスト\n".utf8), mode: 0o600, mtime: 1_700_000_000)
        try file("docs/empty.txt", [])
        try file("exports/2026-10/contacts.csv", Array((1...200).map { "\($0),Person \($0),p\($0)@example.test\n" }.joined().utf8))
        try file("uploads/scan.pdf", random.bytes(700_000))
        try file("deep/a/b/c/d/leaf.bin", random.bytes(3000), mode: 0o755)
        if bigFile > 0 { try file("uploads/archive.bin", random.bytes(bigFile)) }
        symlink("docs/notes.md", "\(root)/latest-notes")
        for directory in ["docs", "docs/contracts", "uploads"] {
            var times = [timespec(tv_sec: 1_750_000_000, tv_nsec: 0), timespec(tv_sec: 1_750_000_000, tv_nsec: 0)]
            utimensat(AT_FDCWD, "\(root)/\(directory)", &times, 0)
        }
    }

    /// Differences between two trees: content, permission bits, modification time (to the
    /// nanosecond), symlink targets, and presence of every entry (empty directories included).
    static func differences(_ a: String, _ b: String) -> [String] {
        var problems: [String] = []
        let fm = FileManager.default
        let left = Set((fm.subpaths(atPath: a) ?? []))
        let right = Set((fm.subpaths(atPath: b) ?? []))
        for missing in left.subtracting(right) { problems.append("missing \(missing)") }
        for extra in right.subtracting(left) { problems.append("extra \(extra)") }
        for path in left.intersection(right).sorted() {
            var x = stat(), y = stat()
            lstat("\(a)/\(path)", &x)
            lstat("\(b)/\(path)", &y)
            if x.st_mode != y.st_mode { problems.append("\(path): mode \(String(x.st_mode, radix: 8)) vs \(String(y.st_mode, radix: 8))") }
            switch x.st_mode & S_IFMT {
            case S_IFREG:
                if fm.contents(atPath: "\(a)/\(path)") != fm.contents(atPath: "\(b)/\(path)") { problems.append("\(path): content differs") }
                if x.st_mtim.tv_sec != y.st_mtim.tv_sec || x.st_mtim.tv_nsec != y.st_mtim.tv_nsec { problems.append("\(path): mtime differs") }
            case S_IFLNK:
                if (try? fm.destinationOfSymbolicLink(atPath: "\(a)/\(path)")) != (try? fm.destinationOfSymbolicLink(atPath: "\(b)/\(path)")) {
                    problems.append("\(path): link target differs")
                }
            case S_IFDIR:
                if x.st_mtim.tv_sec != y.st_mtim.tv_sec { problems.append("\(path): directory mtime differs") }
            default:
                break
            }
        }
        return problems
    }
}
