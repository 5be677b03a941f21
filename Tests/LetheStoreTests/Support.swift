import Foundation
import LetheStore

/// A fresh temporary directory, removed when released.
final class Scratch {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "lethe-store-test-" + UUID().uuidString
        try! FileSystem.makeDirectories(path)
    }

    deinit {
        try? FileSystem.removeTree(path)
    }
}
