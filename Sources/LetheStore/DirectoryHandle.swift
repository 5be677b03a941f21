import Glibc

/// Owns one open directory descriptor, closed in `deinit` unless `close()` came first, and
/// works on the entries of that directory by name, with the `*at` system calls.
///
/// A path is looked up again at every call, so a directory swapped for a symbolic link between
/// two calls redirects every later call; a descriptor stays on the directory it was opened on.
/// Code that must not write outside a tree (a restore run as root into a directory others can
/// write to) therefore holds the tree's directories open and names only their direct entries:
/// nothing here follows a symbolic link, every name is one component (not empty, no `/`, not
/// `.` or `..`, no NUL), and directories are opened with `O_NOFOLLOW`.
///
/// Each method is one system call with `EINTR` retried, failing with a `SystemError` that
/// names the full path of the entry concerned.
public final class DirectoryHandle {
    public let descriptor: Int32
    /// The directory's path when it was opened, for messages: the directory may since have
    /// been moved, and the descriptor follows it.
    public let path: String
    private var isOpen = true

    /// `UTIME_OMIT` of <sys/stat.h> (a macro Swift does not import): leave that time as it is.
    private static let omitTime = (1 << 30) - 2

    /// Opens the directory at `path`; fails if its last component is a symbolic link.
    public init(path: String) throws {
        let fd = retryOnInterrupt { open(path, DirectoryHandle.openFlags) }
        guard fd >= 0 else { throw SystemError("open directory", path) }
        descriptor = fd
        self.path = path
    }

    /// Opens the directory at `path` after resolving (once, with `realpath`) the symbolic links
    /// of its parents, the way a user-given path is meant; its last component is still not
    /// followed. The handle's `path` is the resolved one.
    public convenience init(resolvingParentsOf path: String) throws {
        var absolute = FileSystem.absolute(path)
        while absolute.count > 1, absolute.hasSuffix("/") { absolute.removeLast() }
        let name = FileSystem.basename(of: absolute)
        // "." and ".." are directories by definition, and "/" has no parent: resolve it all.
        let resolveWhole = name.isEmpty || name == "." || name == ".."
        let parent = try DirectoryHandle.realPath(resolveWhole ? absolute : FileSystem.parent(of: absolute))
        try self.init(path: resolveWhole ? parent : DirectoryHandle.join(parent, name))
    }

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        if isOpen { _ = Glibc.close(descriptor) }
    }

    public func close() throws {
        guard isOpen else { return }
        isOpen = false
        guard Glibc.close(descriptor) == 0 else { throw SystemError("close", path) }
    }

    /// The full path of entry `name`, for messages.
    public func path(of name: String) -> String {
        DirectoryHandle.join(path, name)
    }

    // MARK: Entries, by name

    /// Opens the subdirectory `name`; fails (`ENOTDIR` on Linux) if it is a symbolic link or
    /// not a directory.
    public func openDirectory(_ name: String) throws -> DirectoryHandle {
        try validate(name, "open directory")
        let fd = retryOnInterrupt { openat(descriptor, name, DirectoryHandle.openFlags) }
        guard fd >= 0 else { throw failure("open directory", name) }
        return DirectoryHandle(descriptor: fd, path: path(of: name))
    }

    /// Opens `..`: whichever directory holds this one *now*, which, if this one was moved, is
    /// not the one it was opened from. The caller checks it (by device and inode) before
    /// trusting it. This is how a walk too deep to keep every ancestor open climbs back up.
    public func openParent() throws -> DirectoryHandle {
        let parent = FileSystem.parent(of: path)
        let fd = retryOnInterrupt { openat(descriptor, "..", DirectoryHandle.openFlags) }
        guard fd >= 0 else { throw SystemError("open directory", parent) }
        return DirectoryHandle(descriptor: fd, path: parent)
    }

    /// Creates the subdirectory `name` with `mode` (less the umask); fails if anything is there.
    public func makeDirectory(_ name: String, mode: mode_t) throws {
        try validate(name, "create directory")
        guard retryOnInterrupt({ mkdirat(descriptor, name, mode) }) == 0 else {
            throw failure("create directory", name)
        }
    }

    /// Creates the regular file `name` for writing, with `mode` (less the umask); fails if
    /// anything, a symbolic link included, is there.
    public func createFile(_ name: String, mode: mode_t) throws -> OwnedFile {
        try validate(name, "create")
        let fd = retryOnInterrupt { openat(descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw failure("create", name) }
        return try OwnedFile(adopting: fd, path: path(of: name))
    }

    /// Creates the symbolic link `name` pointing to `target` (which is not looked at).
    public func makeSymlink(_ name: String, to target: String) throws {
        try validate(name, "create symbolic link")
        guard !target.utf8.contains(0) else { throw SystemError("create symbolic link", path(of: name), code: EINVAL) }
        guard retryOnInterrupt({ symlinkat(target, descriptor, name) }) == 0 else {
            throw failure("create symbolic link", name)
        }
    }

    /// Makes `newName` in `directory` another name (a hard link) of this directory's entry
    /// `name`, which is not followed if it is a link; fails if anything is at `newName`.
    public func link(_ name: String, as newName: String, in directory: DirectoryHandle) throws {
        try validate(name, "link")
        try directory.validate(newName, "link \(path(of: name)) as")
        guard retryOnInterrupt({ linkat(descriptor, name, directory.descriptor, newName, 0) }) == 0 else {
            throw directory.failure("link \(path(of: name)) as", newName)
        }
    }

    /// Renames entry `name` to `newName` in this directory, atomically replacing what
    /// `newName` was (a link there is replaced, not followed); fails if that is a directory.
    public func rename(_ name: String, to newName: String) throws {
        try validate(name, "rename")
        try validate(newName, "rename \(path(of: name)) to")
        guard retryOnInterrupt({ renameat(descriptor, name, descriptor, newName) }) == 0 else {
            throw failure("rename \(path(of: name)) to", newName)
        }
    }

    /// Removes entry `name`, which is not a directory (a link is removed, not followed).
    public func remove(_ name: String) throws {
        try validate(name, "remove")
        guard retryOnInterrupt({ unlinkat(descriptor, name, 0) }) == 0 else { throw failure("remove", name) }
    }

    /// Removes the empty subdirectory `name`.
    public func removeDirectory(_ name: String) throws {
        try validate(name, "remove directory")
        guard retryOnInterrupt({ unlinkat(descriptor, name, AT_REMOVEDIR) }) == 0 else {
            throw failure("remove directory", name)
        }
    }

    /// The status of entry `name` itself (a link is not followed), or nil if nothing is there.
    public func status(of name: String) throws -> stat? {
        try validate(name, "inspect")
        var info = stat()
        guard retryOnInterrupt({ fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            if errno == ENOENT { return nil }
            throw failure("inspect", name)
        }
        return info
    }

    /// Sets the modification time of entry `name` itself (a link, not what it points to),
    /// leaving its access time.
    public func setModificationTime(of name: String, _ time: timespec) throws {
        try validate(name, "set times of")
        var times = [timespec(tv_sec: 0, tv_nsec: DirectoryHandle.omitTime), time]
        guard retryOnInterrupt({ utimensat(descriptor, name, &times, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw failure("set times of", name)
        }
    }

    /// Sets the owner of entry `name` itself (a link, not what it points to).
    public func setOwner(of name: String, uid: uid_t, gid: gid_t) throws {
        try validate(name, "set owner of")
        guard retryOnInterrupt({ fchownat(descriptor, name, uid, gid, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw failure("set owner of", name)
        }
    }

    // MARK: The directory itself

    /// The directory's status (`fstat`): its device and inode say which directory this is.
    public func status() throws -> stat {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError("inspect", path) }
        return info
    }

    public func setPermissions(_ mode: mode_t) throws {
        guard retryOnInterrupt({ fchmod(descriptor, mode) }) == 0 else { throw SystemError("set permissions of", path) }
    }

    /// Sets the directory's modification time, leaving its access time.
    public func setModificationTime(_ time: timespec) throws {
        try DirectoryHandle.setModificationTime(descriptor, time, path: path)
    }

    public func setOwner(uid: uid_t, gid: gid_t) throws {
        guard retryOnInterrupt({ fchown(descriptor, uid, gid) }) == 0 else { throw SystemError("set owner of", path) }
    }

    // MARK: Helpers

    private static let openFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC

    /// `futimens` with the access time left as it is; shared with `OwnedFile`.
    static func setModificationTime(_ descriptor: Int32, _ time: timespec, path: String) throws {
        var times = [timespec(tv_sec: 0, tv_nsec: omitTime), time]
        guard retryOnInterrupt({ futimens(descriptor, &times) }) == 0 else { throw SystemError("set times of", path) }
    }

    /// Refuses a name that is not exactly one entry of this directory.
    private func validate(_ name: String, _ operation: String) throws {
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")), !name.utf8.contains(0) else {
            throw SystemError(operation, path(of: name), code: EINVAL)
        }
    }

    /// The error for a call that just failed on entry `name`, with its `errno` taken first.
    private func failure(_ operation: String, _ name: String) -> SystemError {
        let code = errno
        return SystemError(operation, path(of: name), code: code)
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : "\(directory)/\(name)"
    }

    private static func realPath(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else { throw SystemError("resolve", path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
