import Foundation
import Glibc
import Testing

/// A restore reproduces a real tree exactly: content, mode, owner, modification time, link
/// target and link count of every entry, the root included, as Python's `os.lstat` sees them
/// (an oracle that shares no code with Lethe). And a file that changes while it is read is a
/// warning and exit 1, never a torn copy in silence.
@Suite struct RestoreFidelityTests {
    /// Builds the source at argv[1]: a copy of /usr/share/zoneinfo (`cp -a`: hundreds of files
    /// and symbolic links), and a generated part with every mode bit, owners (when run as root),
    /// two groups of hard links across directories, symbolic links (relative, dangling, to a
    /// directory), empty files and directories, and old times with nanoseconds; the root is
    /// 0755 with a time from 2001, set last.
    static let makeTree = #"""
    import os, random, subprocess, sys
    root = sys.argv[1]
    os.makedirs(root)
    if os.path.isdir("/usr/share/zoneinfo"):
        subprocess.run(["cp", "-a", "/usr/share/zoneinfo", root + "/zoneinfo"], check=True)
    g = root + "/gen"
    rng = random.Random(13)
    directories = {"gen": 0o755, "gen/private": 0o700, "gen/shared": 0o750, "gen/sticky": 0o1777,
                   "gen/setgid": 0o2775, "gen/empty": 0o555, "gen/shared/deep": 0o711}
    for d in directories:
        os.makedirs(root + "/" + d, exist_ok=True)
    files = {"gen/a.txt": (0o644, "Grüße aus Köln\n".encode() * 40), "gen/script.sh": (0o755, b"#!/bin/sh\necho hi\n"),
             "gen/secret": (0o400, b"only the owner reads this\n"), "gen/suid": (0o4755, b"\x7fELF not really\n"),
             "gen/empty-file": (0o600, b""), "gen/private/data.bin": (0o640, rng.randbytes(200_000)),
             "gen/shared/big.bin": (0o644, rng.randbytes(3_000_000)), "gen/sticky/ü — 日本.txt": (0o666, b"names\n"),
             "gen/linked-a": (0o640, rng.randbytes(70_000)), "gen/pair-1": (0o600, b"two names\n")}
    for path, (mode, data) in files.items():
        with open(root + "/" + path, "wb") as f:
            f.write(data)
        os.chmod(root + "/" + path, mode)
    os.link(root + "/gen/linked-a", root + "/gen/shared/linked-b")
    os.link(root + "/gen/linked-a", root + "/gen/private/linked-c")
    os.link(root + "/gen/pair-1", root + "/gen/setgid/pair-2")
    links = {"gen/rel-link": "a.txt", "gen/dangling": "/nonexistent/zïel", "gen/shared/up": "../script.sh", "gen/dir-link": "shared"}
    for path, target in links.items():
        os.symlink(target, root + "/" + path)
    if os.geteuid() == 0:
        os.chown(root + "/gen/a.txt", 1234, 5678)
        os.chown(root + "/gen/linked-a", 2345, 6789)
        os.chown(root + "/gen/shared", 1234, 1234)
        os.lchown(root + "/gen/rel-link", 4321, 8765)
        os.chmod(root + "/gen/suid", 0o4755)  # chown cleared it
    for index, path in enumerate(sorted(files) + sorted(links)):
        os.utime(root + "/" + path, ns=(10**18 + index, 946_684_800_000_000_000 + index * 86_400_123_456_789),
                 follow_symlinks=False)
    for index, d in enumerate(sorted(directories, reverse=True)):
        os.chmod(root + "/" + d, directories[d])
        os.utime(root + "/" + d, ns=(10**18, 631_152_000_999_999_999 + index * 1_000_000_001))
    os.chmod(root, 0o755)
    os.utime(root, ns=(10**18, 1_000_000_000_123_456_789))
    """#

    /// Prints one line per entry below argv[1], the root (".") included, sorted by path:
    /// kind, permission bits, owner, modification time in nanoseconds, link count, and the
    /// content's SHA-256 or the link's target. (A directory's size depends on its history, not
    /// its entries, and is left out.)
    static let describeTree = #"""
    import hashlib, os, stat, sys
    root = sys.argv[1]
    def line(rel):
        path = os.path.join(root, rel)
        s = os.lstat(path)
        kind = "l" if stat.S_ISLNK(s.st_mode) else "d" if stat.S_ISDIR(s.st_mode) else "f" if stat.S_ISREG(s.st_mode) else "?"
        extra = ""
        if kind == "f":
            with open(path, "rb") as f:
                extra = "%d %s" % (s.st_size, hashlib.sha256(f.read()).hexdigest())
        elif kind == "l":
            extra = "-> " + os.readlink(path)
        return "%s %s %o %d:%d %d n%d %s" % (rel, kind, stat.S_IMODE(s.st_mode), s.st_uid, s.st_gid, s.st_mtime_ns, s.st_nlink, extra)
    entries = ["."]
    for directory, subdirectories, names in os.walk(root):
        for name in subdirectories + names:
            entries.append(os.path.relpath(os.path.join(directory, name), root))
    for rel in sorted(entries):
        print(line(rel))
    """#

    static func python(_ script: String, _ arguments: String...) throws -> String {
        let run = E2EHome.run("/usr/bin/python3", ["-c", script] + arguments)
        guard run.status == 0 else { throw E2EError("python3 failed: \(run.stderr)") }
        return run.stdout
    }

    @Test func aRealTreeRestoresExactlyInContentAndMetadataRootIncluded() throws {
        let home = try E2EHome()
        let source = "\(home.data)/tree"
        _ = try RestoreFidelityTests.python(RestoreFidelityTests.makeTree, source)
        let before = try RestoreFidelityTests.python(RestoreFidelityTests.describeTree, source)
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(source)", "--name", "Acme").status == 0)
        let backup = home.lethe("backup", "acme")
        #expect(backup.status == 0, "\(backup.output)")
        let target = "\(home.root)/restored"
        let restore = home.lethe("restore", "acme", "latest", "--target", target)
        #expect(restore.status == 0, "\(restore.output)")
        let after = try RestoreFidelityTests.python(RestoreFidelityTests.describeTree, target)
        #expect(after == before)
        // What the comparison covers, so that it cannot pass on a tree that lacks it.
        let lines = before.split(separator: "\n")
        #expect(lines.first?.hasPrefix(". d 755 ") == true && lines.first?.contains(" 1000000000123456789 ") == true)
        #expect(lines.filter { $0.contains(" n3 ") && $0.contains(" f ") }.count == 3, "one file with three names")
        #expect(lines.filter { $0.contains(" n2 ") && $0.contains(" f ") }.count == 2, "one file with two names")
        #expect(lines.contains { $0.hasPrefix("gen/suid f 4755 ") })
        #expect(lines.filter { $0.contains(" l ") }.count > 300, "zoneinfo's links and the generated ones")
        if geteuid() == 0 { #expect(lines.contains { $0.hasPrefix("gen/rel-link l 777 4321:8765 ") }) }
    }

    @Test func theSecondBackupOfATreeWithHardLinksReadsNothingAndStillRestoresThem() throws {
        let home = try E2EHome()
        let source = "\(home.data)/tree"
        _ = try RestoreFidelityTests.python(RestoreFidelityTests.makeTree, source)
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(source)", "--name", "Acme").status == 0)
        #expect(home.lethe("backup", "acme").status == 0)
        let second = try #require(try home.lethe("backup", "acme", "--json").json() as? [String: Any])
        let result = try #require((second["tenants"] as? [[String: Any]])?.first)
        let summary = try #require(result["summary"] as? [String: Any])
        #expect(summary["bytesRead"] as? Int == 0)
        let target = "\(home.root)/restored"
        #expect(home.lethe("restore", "acme", "latest", "--target", target).status == 0)
        #expect(try RestoreFidelityTests.python(RestoreFidelityTests.describeTree, target)
            == RestoreFidelityTests.python(RestoreFidelityTests.describeTree, source))
    }

    @Test func anExportHoldsHardLinksAsTarLinkEntriesThatTarRestores() throws {
        let home = try E2EHome()
        let source = "\(home.data)/tree"
        _ = try RestoreFidelityTests.python(RestoreFidelityTests.makeTree, source)
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(source)", "--name", "Acme").status == 0)
        #expect(home.lethe("backup", "acme").status == 0)
        let archive = "\(home.root)/acme.tar"
        let export = home.lethe("export", "acme", "--output", archive)
        #expect(export.status == 0, "\(export.output)")
        let members = try RestoreFidelityTests.python(#"""
            import sys, tarfile
            for m in tarfile.open(sys.argv[1]):
                if m.islnk() or m.name.startswith("gen/linked") or m.name.startswith("gen/pair") or "/linked-" in m.name or "/pair-" in m.name:
                    print(m.name, "link" if m.islnk() else "file", m.linkname, m.size)
            """#, archive)
        #expect(members.split(separator: "\n").sorted() == [
            "gen/linked-a file  70000", "gen/pair-1 file  10", "gen/private/linked-c link gen/linked-a 0",
            "gen/setgid/pair-2 link gen/pair-1 0", "gen/shared/linked-b link gen/linked-a 0",
        ])
        let extracted = "\(home.root)/extracted"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        let tar = E2EHome.run("/usr/bin/tar", ["-xpf", archive, "-C", extracted])
        #expect(tar.status == 0, "\(tar.output)")
        var a = stat(), b = stat()
        #expect(lstat("\(extracted)/gen/linked-a", &a) == 0 && lstat("\(extracted)/gen/shared/linked-b", &b) == 0)
        #expect(a.st_ino == b.st_ino && a.st_nlink == 3)
    }

    @Test func aFileThatGrowsDuringTheBackupIsAWarningAndExitOne() throws {
        let home = try E2EHome()
        let source = "\(home.data)/acme"
        try home.write("\(source)/steady.txt", "still\n")
        try home.write("\(source)/growing.log", [UInt8](repeating: 0x61, count: 24 << 20))
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(source)", "--name", "Acme").status == 0)
        // Appends a line every half millisecond until told to stop (or 512 MiB), after
        // saying it has begun.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        writer.arguments = ["-c", #"""
            import os, sys, time
            path, started, stop = sys.argv[1:4]
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            os.write(fd, b"first line\n")
            open(started, "w").close()
            written = 0
            while not os.path.exists(stop) and written < 512 << 20:
                written += os.write(fd, b"log line %d\n" % written)
                time.sleep(0.0005)
            """#, "\(source)/growing.log", "\(home.root)/started", "\(home.root)/stop"]
        try writer.run()
        defer {
            _ = FileManager.default.createFile(atPath: "\(home.root)/stop", contents: nil)
            writer.waitUntilExit()
        }
        while !FileManager.default.fileExists(atPath: "\(home.root)/started") && writer.isRunning { usleep(10_000) }
        let backup = home.lethe("backup", "acme", "--json")
        _ = FileManager.default.createFile(atPath: "\(home.root)/stop", contents: nil)
        #expect(backup.status == 1, "\(backup.output)")
        let output = try #require(try backup.json() as? [String: Any])
        let result = try #require((output["tenants"] as? [[String: Any]])?.first)
        #expect(result["status"] as? String == "partial")
        let summary = try #require(result["summary"] as? [String: Any])
        let warnings = try #require(summary["warnings"] as? [String])
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("\(source)/growing.log: changed while it was read") == true)
        #expect(summary["errors"] as? [String] == [])
        #expect(backup.stderr.contains("lethe: 1 of 1 tenant did not back up cleanly: acme (\(source)/growing.log: changed"))
        // The snapshot is kept with the warning in its summary, and restores.
        let snapshots = try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]])
        #expect(snapshots.map { $0["id"] as? String } == [result["snapshot"] as? String])
        #expect(((snapshots.first?["summary"] as? [String: Any])?["warnings"] as? [String]) == warnings)
        let target = "\(home.root)/restored"
        #expect(home.lethe("restore", "acme", "latest", "--target", target).status == 0)
        #expect(FileManager.default.contents(atPath: "\(target)/steady.txt") == Data("still\n".utf8))
    }
}
