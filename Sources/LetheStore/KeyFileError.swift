import Glibc

/// Why `KeyDirectory` refused a key file or the key directory itself: one line naming the path
/// and saying what to do. Never carries key bytes.
///
/// Loose permissions, a foreign owner and extra hard links are configuration mistakes (the
/// operator fixes them, after deciding whether the key was exposed); a symbolic link or some
/// other kind of file where a key file should be is an integrity violation, because Lethe
/// never puts one there: someone may be redirecting its keys.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A key file that group or others may read or write.
    case insecureFileMode(path: String, mode: mode_t)
    /// A key directory that group or others may list, enter or write.
    case insecureDirectoryMode(path: String, mode: mode_t)
    /// A key file or key directory owned by another user, who could read or replace it.
    case wrongOwner(path: String, owner: uid_t, user: uid_t)
    /// A key file with more than one name: the other names are copies of the key that its
    /// destruction would not reach.
    case multipleLinks(path: String, count: Int)
    /// A symbolic link where a key file or key directory should be.
    case symbolicLink(path: String)
    /// Something other than a regular file (a directory, a FIFO, a device) where a key file
    /// should be.
    case notRegularFile(path: String)
    /// The key directory's path names something that is not a directory.
    case notDirectory(path: String)

    /// True for the cases that mean someone put something in the key directory that Lethe
    /// never writes there (exit 3), false for permission mistakes (exit 2).
    public var isIntegrityViolation: Bool {
        switch self {
        case .symbolicLink, .notRegularFile: return true
        case .insecureFileMode, .insecureDirectoryMode, .wrongOwner, .multipleLinks, .notDirectory: return false
        }
    }

    public var path: String {
        switch self {
        case .insecureFileMode(let path, _), .insecureDirectoryMode(let path, _), .wrongOwner(let path, _, _),
             .multipleLinks(let path, _), .symbolicLink(let path), .notRegularFile(let path), .notDirectory(let path):
            return path
        }
    }

    public var description: String {
        switch self {
        case .insecureFileMode(let path, let mode):
            return "refusing \(path): its permissions are \(String(mode, radix: 8)), so group or others may read it; "
                + "run `chmod 600 \(path)` if it has not been exposed, or treat the key as compromised"
        case .insecureDirectoryMode(let path, let mode):
            return "refusing key directory \(path): its permissions are \(String(mode, radix: 8)), so group or others "
                + "may enter it; run `chmod 700 \(path)` if its keys have not been exposed, or treat them as compromised"
        case .wrongOwner(let path, let owner, let user):
            return "refusing \(path): it is owned by uid \(owner), not by you (uid \(user)), so that user may read or "
                + "replace it; run `chown \(user) \(path)` if it really is this service's, or treat it as compromised"
        case .multipleLinks(let path, let count):
            return "refusing \(path): it has \(count) hard links, so the key also exists under another name; find them "
                + "with `find / -xdev -samefile \(path)`, remove the others, or treat the key as compromised"
        case .symbolicLink(let path):
            return "refusing \(path): it is a symbolic link, and Lethe never makes one there (someone may be "
                + "redirecting its keys); find out who made it, and put the key itself there"
        case .notRegularFile(let path):
            return "refusing \(path): it is not a regular file, and Lethe never puts anything else there; "
                + "find out who made it, and put the key file itself there"
        case .notDirectory(let path):
            return "refusing \(path): it is not a directory; the key directory (`lethe init --keys`) must be one"
        }
    }
}
