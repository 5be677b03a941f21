import Glibc
import LetheStore

/// Walks the directories of a restore plan, below the target's open descriptor, checking at
/// every step that each directory is the one the restore created or adopted (same device and
/// inode): a directory swapped for a link, or moved away, stops the restore with an error
/// naming it, instead of redirecting what follows.
///
/// The cursor keeps open the deepest `window` directories of the path from the target to where
/// it stands. It moves down by name (`openat` with `O_NOFOLLOW`) and up by dropping the deepest
/// handle or, above what it keeps open, through `..`, checked like any other step. Moving
/// through the plan in its order costs a few system calls per directory (every directory is
/// entered and left about once), and never more than `window` descriptors, however deep or
/// wide the tree. One cursor serves one thread.
final class DirectoryCursor {
    struct Identity: Equatable {
        let device: UInt64
        let inode: UInt64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    static let window = 32

    private let target: DirectoryHandle
    private let directories: [Restorer.Entry]
    private let depths: [Int]
    /// Of each directory, recorded when the cursor first enters it (right after the restore
    /// created or adopted it), then required at every later step.
    private(set) var identities: [Identity?]
    /// The directories held open, from at most `window` levels up down to the current one;
    /// empty when the cursor stands on the target.
    private var open: [(index: Int, handle: DirectoryHandle)] = []

    init(target: DirectoryHandle, directories: [Restorer.Entry], identities: [Identity?]? = nil) {
        self.target = target
        self.directories = directories
        self.identities = identities ?? Array(repeating: nil, count: directories.count)
        var depths: [Int] = []
        depths.reserveCapacity(directories.count)
        for entry in directories { depths.append(entry.parent.map { depths[$0] + 1 } ?? 1) }
        self.depths = depths
    }

    private var current: Int? { open.last?.index }

    private func depth(_ index: Int?) -> Int { index.map { depths[$0] } ?? 0 }

    /// Moves to directory `index` (nil: the target) and returns its handle.
    func move(to index: Int?) throws -> DirectoryHandle {
        var goal = index
        var down: [Int] = []
        while depth(goal) > depth(current), let step = goal {
            down.append(step)
            goal = directories[step].parent
        }
        while depth(current) > depth(goal) { try climb() }
        while current != goal, let step = goal {
            try climb()
            down.append(step)
            goal = directories[step].parent
        }
        for step in down.reversed() { try descend(into: step) }
        return open.last?.handle ?? target
    }

    /// Checks that the current directory is still where the restore put it: its name in its
    /// parent leads to it, not to a link or another directory.
    func checkInPlace() throws {
        guard let (index, handle) = open.last else { return }
        let parent: DirectoryHandle
        if open.count >= 2 {
            parent = open[open.count - 2].handle
        } else if let above = directories[index].parent {
            parent = try handle.openParent()
            try check(parent, is: above, naming: handle.path)
        } else {
            parent = target
        }
        let name = directories[index].node.name
        guard let info = try parent.status(of: name), (info.st_mode & S_IFMT) == S_IFDIR, Identity(info) == identities[index] else {
            throw DirectoryCursor.replaced(parent.path(of: name))
        }
    }

    private func descend(into index: Int) throws {
        let parent = open.last?.handle ?? target
        let name = directories[index].node.name
        let handle: DirectoryHandle
        do {
            handle = try parent.openDirectory(name)
        } catch let error as SystemError
            where error.code == ENOTDIR || error.code == ELOOP || (error.code == ENOENT && identities[index] != nil) {
            // A link or a file where the directory was, or the directory this restore created
            // gone (caught between its move and what replaces it): replaced, either way.
            throw DirectoryCursor.replaced(parent.path(of: name))
        }
        try check(handle, is: index, naming: handle.path)
        open.append((index, handle))
        if open.count > DirectoryCursor.window { open.removeFirst() }
    }

    private func climb() throws {
        let leaving = open.removeLast()
        guard open.isEmpty, let parent = directories[leaving.index].parent else { return }
        let handle = try leaving.handle.openParent()
        try check(handle, is: parent, naming: leaving.handle.path)
        open.append((parent, handle))
    }

    /// Records the identity of a directory entered for the first time; otherwise requires it.
    private func check(_ handle: DirectoryHandle, is index: Int, naming path: String) throws {
        let identity = Identity(try handle.status())
        guard let known = identities[index] else {
            identities[index] = identity
            return
        }
        guard known == identity else { throw DirectoryCursor.replaced(path) }
    }

    static func replaced(_ path: String) -> LetheError {
        .failed("restore stopped: \(path) was replaced or moved while the restore ran; nothing is written through what stands there now")
    }
}
