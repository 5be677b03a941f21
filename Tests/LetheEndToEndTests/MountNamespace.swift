import Foundation
import Glibc

/// Runs a program in a private mount namespace (`unshare -m`) where some paths are bind
/// mounts of themselves made read-only or writable, as systemd's `ReadOnlyPaths=` and
/// `ReadWritePaths=` do; with `protectSystem`, every other mount is read-only too
/// (`ProtectSystem=strict`) but the API file systems and /tmp (the unit's `PrivateTmp=` gives
/// it a writable /tmp of its own). The tests run as root, and the program runs as `user` if
/// given; a read-only mount refuses root (EROFS) as it refuses any user.
struct MountNamespace {
    struct Bind {
        let path: String
        let writable: Bool
        /// A missing optional path is skipped (systemd's "-" prefix); a missing required one
        /// stops the run, as systemd refuses to start such a unit.
        var optional = false
    }

    static var available: Bool { getuid() == 0 }

    /// Exit status of the namespace script when a required path is missing.
    static let missingPathStatus: Int32 = 226

    var binds: [Bind]
    var protectSystem = false
    /// The user and group to run as (systemd's `User=`, `Group=`), or root.
    var user: (uid: UInt32, gid: UInt32)? = nil

    /// Runs `program arguments…` inside the view, with exactly `environment` (nothing inherited).
    /// Not as root, the run fails saying so: the suites that need it fail loudly, never skip.
    func run(_ program: String, _ arguments: [String], environment: [String: String], directory: String = "/") -> E2ERun {
        guard MountNamespace.available else {
            return E2ERun(status: -1, stdout: "", stderr: "mount namespaces need root: run the tests as root (Scripts/test.sh does)")
        }
        return E2EHome.run("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c", script, "view"]
            + ["/usr/bin/env", "-i"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [program] + arguments,
            directory: directory)
    }

    /// The shell script that makes the view, then runs "$@".
    var script: String {
        var lines = ["set -eu"]
        if protectSystem {
            lines += [
                "mount --bind /tmp /tmp",
                "[ -d /var/tmp ] && mount --bind /var/tmp /var/tmp",
                "mount -o remount,bind,ro /",
                // Every other mount, but the API file systems and the private /tmp.
                "awk '{print $5}' /proc/self/mountinfo | sort -u | while read -r point; do",
                "  case \"$point\" in /|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*|/tmp|/tmp/*|/var/tmp|/var/tmp/*) continue ;; esac",
                "  mount -o remount,bind,ro \"$point\" 2>/dev/null || true",
                "done",
            ]
        }
        // Parents first, so that a path inside another gets its own setting, as in systemd.
        for bind in binds.sorted(by: { $0.path.count < $1.path.count }) {
            let path = Self.quoted(bind.path)
            let missing = bind.optional
                ? "true"
                : "{ echo \"the unit would not start: \(bind.path) does not exist\" >&2; exit \(Self.missingPathStatus); }"
            lines.append("if [ -e \(path) ]; then mount --bind \(path) \(path); mount -o remount,bind,\(bind.writable ? "rw" : "ro") \(path); else \(missing); fi")
        }
        if let user {
            lines.append("exec /usr/bin/setpriv --reuid=\(user.uid) --regid=\(user.gid) --clear-groups \"$@\"")
        } else {
            lines.append("exec \"$@\"")
        }
        return lines.joined(separator: "\n")
    }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
