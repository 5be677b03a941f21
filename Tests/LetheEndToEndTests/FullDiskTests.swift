import Foundation
import Glibc
import Testing

/// Issue 14, finding 1: a backup onto a store whose disk fills up trapped the process. It must
/// fail with one line naming what could not be written, keep every committed snapshot, and
/// succeed once space is freed. The full disk is real: a small tmpfs under the store.
@Suite struct FullDiskTests {
    @Test func aFullDiskIsOneLineAndNothingHalfWrittenIsVisible() throws {
        let home = try E2EHome(initialize: false)
        let store = "\(home.root)/store"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        let mount = E2EHome.run("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", store])
        try #require(mount.status == 0, "mounting a tmpfs needs root (the tests run as root): \(mount.output)")
        defer { _ = E2EHome.run("/bin/umount", ["-l", store]) }
        #expect(home.lethe("init", "--keys", home.keys, "--store", "\(store)/s").status == 0)
        let data = "\(home.data)/acme"
        try home.write("\(data)/small.txt", "small\n")
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(data)").status == 0)
        #expect(home.lethe("backup", "acme").status == 0, "a first snapshot fits")
        let committed = home.lethe("snapshots", "acme", "--json").stdout
        var random = SeededBytes(seed: 7)
        try home.write("\(data)/big.bin", random.bytes(8 << 20))
        let full = home.lethe("backup", "acme")
        #expect(full.status == 1, "\(full.output)")
        #expect(full.output.contains("No space left on device") && full.output.contains("tenants/acme/data/"), "\(full.output)")
        #expect(!full.stderr.contains("Fatal error") && !full.stderr.contains("Backtrace"), "\(full.stderr)")
        #expect(home.lethe("snapshots", "acme", "--json").stdout == committed, "no partial snapshot is listed")
        #expect(home.lethe("verify", "acme").status == 0)
        try FileManager.default.removeItem(atPath: "\(data)/big.bin")
        #expect(home.lethe("backup", "acme").status == 0, "works again once space is freed")
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/r").status == 0)
    }
}
