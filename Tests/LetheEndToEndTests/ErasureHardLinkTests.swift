import Foundation
import Glibc
import Testing

/// Rules match paths, but a hard-linked file is one file under several paths: every name of
/// an erased or filtered file gets the same treatment, in a restore, an export and a purge.
@Suite struct ErasureHardLinkTests {
    static let alice = "alice@x.com"

    /// A tenant whose tree has a/contacts.csv hard-linked as b/copy.csv and a/alice.txt as
    /// b/alias.txt, backed up, with Alice's row and a/alice.txt erased.
    static func prepared() throws -> (E2EHome, String) {
        let home = try E2EHome()
        let tree = "\(home.data)/acme"
        try home.write("\(tree)/a/contacts.csv", "email,name\r\n\(alice),Alice\r\nbob@x.com,Bob\r\n")
        try home.write("\(tree)/a/alice.txt", "notes about \(alice)\n")
        try home.write("\(tree)/README.md", "readme\n")
        for number in 0..<12 { try home.write("\(tree)/c/\(number).txt", "other file \(number)\n") }
        try FileManager.default.createDirectory(atPath: "\(tree)/b", withIntermediateDirectories: true)
        #expect(link("\(tree)/a/contacts.csv", "\(tree)/b/copy.csv") == 0)
        #expect(link("\(tree)/a/alice.txt", "\(tree)/b/alias.txt") == 0)
        #expect(home.lethe("tenant", "add", "acme", "--source", "dir:\(tree)").status == 0)
        #expect(home.lethe("backup", "acme").status == 0)
        let request = home.lethe(
            "erase", "request", "acme", "--subject-ref", "t-1", "--reason", "Art. 17",
            "--csv", "a/contacts.csv", "--column", "email", "--value", alice, "--path", "a/alice.txt")
        #expect(request.status == 0, "\(request.output)")
        return (home, tree)
    }

    static func checkErased(_ root: String) {
        let bob = "email,name\r\nbob@x.com,Bob\r\n"
        for name in ["a/contacts.csv", "b/copy.csv"] {
            #expect((try? String(contentsOfFile: "\(root)/\(name)", encoding: .utf8)) == bob, "\(name)")
        }
        for name in ["a/alice.txt", "b/alias.txt"] {
            #expect(!FileManager.default.fileExists(atPath: "\(root)/\(name)"), "\(name)")
        }
        #expect((try? String(contentsOfFile: "\(root)/README.md", encoding: .utf8)) == "readme\n")
        #expect(E2EHome.run("/bin/grep", ["-rl", alice, root]).stdout == "")
    }

    @Test func otherNamesOfErasedAndFilteredFilesAreErasedAndFilteredInRestoresAndExports() throws {
        let (home, tree) = try ErasureHardLinkTests.prepared()
        // The source still holds her under both names: the test is not vacuous.
        #expect(try String(contentsOfFile: "\(tree)/b/copy.csv", encoding: .utf8).contains(ErasureHardLinkTests.alice))
        #expect(FileManager.default.fileExists(atPath: "\(tree)/b/alias.txt"))
        let target = "\(home.root)/r"
        let restore = home.lethe("restore", "acme", "--target", target)
        #expect(restore.status == 0, "\(restore.output)")
        ErasureHardLinkTests.checkErased(target)
        // A restore of the other directory alone: the erased name is outside it, its link is not.
        let part = "\(home.root)/part"
        #expect(home.lethe("restore", "acme", "--target", part, "--path", "b").status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(part)/b/alias.txt"))
        #expect((try? String(contentsOfFile: "\(part)/b/copy.csv", encoding: .utf8)) == "email,name\r\nbob@x.com,Bob\r\n")
        let archive = "\(home.root)/x.tar"
        let export = home.lethe("export", "acme", "--output", archive)
        #expect(export.status == 0, "\(export.output)")
        let extracted = "\(home.root)/x"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        let tar = E2EHome.run("/bin/tar", ["-xf", archive, "-C", extracted])
        #expect(tar.status == 0, "\(tar.output)")
        ErasureHardLinkTests.checkErased(extracted)
    }

    @Test func aPurgeRewritesEveryNameAndLeavesNoBlobWithHerEmail() throws {
        let (home, _) = try ErasureHardLinkTests.prepared()
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")])
        let id = try #require((try home.lethe("erase", "list", "acme", "--json").json() as? [[String: Any]])?.first?["id"] as? String)
        #expect(try !ErasurePurgeTests.objectsHolding(ErasureHardLinkTests.alice, tenant: "acme", home: home).isEmpty)
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        let purge = home.lethe("erase", "purge", id, "--json")
        #expect(purge.status == 0, "\(purge.output)")
        let checks = (try? purge.json() as? [String: Any])?["checks"] as? [[String: Any]]
        #expect(checks?.isEmpty == false && checks?.allSatisfy { $0["passed"] as? Bool == true } == true, "\(purge.output)")
        #expect(try ErasurePurgeTests.objectsHolding(ErasureHardLinkTests.alice, tenant: "acme", home: home) == [])
        let target = "\(home.root)/after"
        #expect(home.lethe("restore", "acme", "--target", target).status == 0)
        ErasureHardLinkTests.checkErased(target)
    }
}
