import Foundation
import Glibc
import LetheStore

/// Writes a snapshot as a POSIX pax tar archive: the right-of-access and portability copy of a
/// tenant's data, in a format any system reads. The archive appears under its name only when
/// complete (temporary file, fsync, rename) and is created 0600, as it holds personal data.
public final class Exporter {
    public struct Summary: Codable, Sendable, Equatable {
        public var files = 0
        public var directories = 0
        public var symlinks = 0
        /// Bytes of file content.
        public var bytes = 0
        /// Size of the archive.
        public var archiveBytes = 0
    }

    private let repository: Repository
    private var summary = Summary()

    public init(repository: Repository) {
        self.repository = repository
    }

    public func export(_ snapshot: Snapshot, to path: String) throws -> Summary {
        let output = FileSystem.absolute(path)
        let directory = FileSystem.parent(of: output)
        guard FileSystem.isDirectory(directory) else { throw LetheError.usage("cannot write \(output): \(directory) is not a directory") }
        try repository.loadIndex()
        let temporary = "\(directory)/.\(FileSystem.basename(of: output)).lethe-export-\(UInt64.random(in: 0...UInt64.max))"
        do {
            let file = try OwnedFile(path: temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            let tar = TarWriter(file: file)
            try add(snapshot.treeID!, prefix: "", to: tar)
            try tar.finish()
            try file.sync()
            try file.close()
            try FileSystem.rename(temporary, to: output)
            try FileSystem.syncDirectory(directory)
            summary.archiveBytes = tar.bytesWritten
        } catch {
            unlink(temporary)
            throw error
        }
        return summary
    }

    private func add(_ tree: BlobID, prefix: String, to tar: TarWriter) throws {
        for node in try repository.loadTree(tree).nodes {
            let path = prefix + node.name
            var entry = TarWriter.Entry(
                path: path, type: .file, mode: node.mode, uid: node.uid, gid: node.gid, size: 0, modified: node.modified)
            switch node.kind {
            case .directory:
                entry.type = .directory
                entry.path += "/"
                try tar.begin(entry)
                summary.directories += 1
                if let subtree = node.subtree { try add(subtree, prefix: path + "/", to: tar) }
            case .symlink:
                entry.type = .symlink
                entry.linkTarget = node.target ?? ""
                try tar.begin(entry)
                summary.symlinks += 1
            case .file:
                entry.size = node.size
                try tar.begin(entry)
                try repository.readContent(of: node, path: path) { try tar.writeContent($0) }
                try tar.finishContent()
                summary.files += 1
                summary.bytes += node.size
            }
        }
    }
}
