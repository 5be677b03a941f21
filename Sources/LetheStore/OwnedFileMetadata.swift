import Glibc

/// Owner, permissions and modification time of an open file, set on its descriptor: whatever
/// happens to its name meanwhile, these reach the file that was opened and no other.
extension OwnedFile {
    /// `fchown`. Clears setuid and setgid bits, so it comes before `setPermissions`.
    public func setOwner(uid: uid_t, gid: gid_t) throws {
        guard retryOnInterrupt({ fchown(descriptor, uid, gid) }) == 0 else { throw SystemError("set owner of", path) }
    }

    /// `fchmod`, exactly `mode` (the umask does not apply), setuid, setgid and sticky included.
    public func setPermissions(_ mode: mode_t) throws {
        guard retryOnInterrupt({ fchmod(descriptor, mode) }) == 0 else { throw SystemError("set permissions of", path) }
    }

    /// `futimens` of the modification time, leaving the access time.
    public func setModificationTime(_ time: timespec) throws {
        try DirectoryHandle.setModificationTime(descriptor, time, path: path)
    }
}
