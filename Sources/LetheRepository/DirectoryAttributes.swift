/// A directory's own permissions, owner and modification time, for the one directory of a
/// snapshot that no node describes: the root, which stands for the source directory whose
/// entries it lists. Without them a restored target kept the mode it was created with (0700)
/// and the restore's time.
public struct DirectoryAttributes: Hashable, Sendable {
    /// Permission bits, including setuid, setgid and sticky (`st_mode & 0o7777`).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var modified: FileTime

    public init(mode: UInt32, uid: UInt32, gid: UInt32, modified: FileTime) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.modified = modified
    }
}
