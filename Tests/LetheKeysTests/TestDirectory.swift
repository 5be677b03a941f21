import Foundation
import LetheStore

/// A fresh directory under the system's temporary directory, removed when released.
final class TestDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "lethe-keys-test-" + UUID().uuidString
        try! FileSystem.makeDirectories(path)
    }

    deinit {
        try? FileSystem.removeTree(path)
    }

    /// Copies the whole directory tree `from` to `to` (both relative to nothing: absolute).
    static func copyTree(_ from: String, to: String) throws {
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }
}
