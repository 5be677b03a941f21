import Foundation
import Glibc
import LetheStore

/// A source tree with what trips up backup tools: nested and empty directories, an empty file,
/// a 20 MiB random file (several chunks), relative and dangling symbolic links, non-ASCII
/// names, modes 0600/0640/0750/0755, and modification times with nanoseconds.
enum SampleTree {
    static let bigFileSize = 20 << 20

    /// Regular files, by path relative to the root.
    static let files: [(path: String, mode: mode_t, bytes: [UInt8])] = [
        ("docs/report.txt", 0o640, Array("quarterly report\n".utf8)),
        ("docs/ünïcødé — 日本.txt", 0o600, Array("Grüße aus Köln\n".utf8)),
        ("docs/nested/deeper/leaf.bin", 0o600, testBytes(3000, seed: 7)),
        ("empty-file", 0o600, []),
        ("big.bin", 0o640, testBytes(bigFileSize, seed: 8)),
        ("run.sh", 0o755, Array("#!/bin/sh\necho hi\n".utf8)),
    ]
    /// Directories, parents before children.
    static let directories: [(path: String, mode: mode_t)] = [
        ("docs", 0o755), ("docs/nested", 0o750), ("docs/nested/deeper", 0o700), ("empty dir", 0o755),
    ]
    static let links: [(path: String, target: String)] = [
        ("link", "docs/report.txt"), ("dangling", "/nonexistent/zïel"),
    ]

    static var totalBytes: Int { files.reduce(0) { $0 + $1.bytes.count } }

    /// Writes the tree at `root`; without `withBigFile`, leaves out `big.bin`, for tests about
    /// the tree's shape that need not chunk 20 MiB.
    static func make(at root: String, withBigFile: Bool = true) throws {
        for directory in directories {
            try FileSystem.makeDirectories("\(root)/\(directory.path)")
        }
        for (index, file) in files.enumerated() where withBigFile || file.path != "big.bin" {
            let path = "\(root)/\(file.path)"
            try FileSystem.writeAtomically(file.bytes, to: path, mode: file.mode)
            try setTime(path, seconds: 1_600_000_000 + index * 86_400, nanoseconds: 123_456_789 + index)
        }
        for (index, link) in links.enumerated() {
            guard symlink(link.target, "\(root)/\(link.path)") == 0 else { throw SystemError("symlink", link.path) }
            try setTime("\(root)/\(link.path)", seconds: 1_500_000_000 + index, nanoseconds: 5, follow: false)
        }
        for (index, directory) in directories.enumerated().reversed() {
            let path = "\(root)/\(directory.path)"
            guard chmod(path, directory.mode) == 0 else { throw SystemError("chmod", path) }
            try setTime(path, seconds: 1_400_000_000 + index, nanoseconds: 999_000_000 + index)
        }
    }

    static func setTime(_ path: String, seconds: Int, nanoseconds: Int, follow: Bool = true) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        guard utimensat(AT_FDCWD, path, &times, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError("utimensat", path) }
    }

    /// Differences between the trees below `a` and `b`: names present, kind, permission bits,
    /// modification time to the nanosecond, file contents and link targets. The roots
    /// themselves are not compared.
    static func differences(_ a: String, _ b: String, path: String = "") -> [String] {
        var problems: [String] = []
        let left = (try? FileSystem.listDirectory(a + path)) ?? []
        let right = (try? FileSystem.listDirectory(b + path)) ?? []
        for name in Set(left).subtracting(right) { problems.append("missing \(path)/\(name)") }
        for name in Set(right).subtracting(left) { problems.append("extra \(path)/\(name)") }
        for name in left where right.contains(name) {
            let relative = "\(path)/\(name)"
            var x = stat(), y = stat()
            lstat(a + relative, &x)
            lstat(b + relative, &y)
            if x.st_mode != y.st_mode { problems.append("\(relative): mode \(String(x.st_mode, radix: 8)) vs \(String(y.st_mode, radix: 8))") }
            if x.st_mtim.tv_sec != y.st_mtim.tv_sec { problems.append("\(relative): mtime \(x.st_mtim.tv_sec) vs \(y.st_mtim.tv_sec)") }
            if x.st_mtim.tv_nsec != y.st_mtim.tv_nsec { problems.append("\(relative): mtime ns \(x.st_mtim.tv_nsec) vs \(y.st_mtim.tv_nsec)") }
            switch x.st_mode & S_IFMT {
            case S_IFREG:
                if (try? FileSystem.readFile(a + relative)) != (try? FileSystem.readFile(b + relative)) { problems.append("\(relative): content differs") }
            case S_IFLNK:
                if linkTarget(a + relative) != linkTarget(b + relative) { problems.append("\(relative): link target differs") }
            case S_IFDIR:
                problems += differences(a, b, path: relative)
            default:
                problems.append("\(relative): unexpected file type")
            }
        }
        return problems
    }

    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count)
        guard length >= 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Permission bits (`st_mode & 0o7777`) of what is at `path`, not following a link; nil if absent.
func permissions(_ path: String) -> mode_t? {
    guard let info = try? FileSystem.status(path) else { return nil }
    return info.st_mode & 0o7777
}
