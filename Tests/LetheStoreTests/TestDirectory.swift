import Foundation
import LetheStore

/// A fresh directory under the system's temporary directory, removed when released.
final class TestDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "lethe-store-test-" + UUID().uuidString
        try! FileSystem.makeDirectories(path)
    }

    deinit {
        try? FileSystem.removeTree(path)
    }
}

/// Permission bits (`st_mode & 0o7777`) of what is at `path`, not following a link; nil if absent.
func permissions(_ path: String) -> mode_t? {
    guard let info = try? FileSystem.status(path) else { return nil }
    return info.st_mode & 0o7777
}

/// Deterministic pseudo-random bytes (xorshift64) for test data.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var out = [UInt8]()
    out.reserveCapacity(count + 8)
    while out.count < count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        withUnsafeBytes(of: state) { out.append(contentsOf: $0) }
    }
    return Array(out.prefix(count))
}
