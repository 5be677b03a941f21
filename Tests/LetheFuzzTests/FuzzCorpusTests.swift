import Foundation
import LetheFuzzTargets
import LetheStore
import Testing

/// Where the fuzz targets' inputs live in the repository.
///
///     Tests/Fuzz/corpus/<target>/        seeds: valid objects, written by SeedGenerator
///     Tests/Fuzz/regressions/<target>/   every input a fuzzer run made crash, kept once fixed
enum FuzzCorpus {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz").path

    /// The files of `kind` (corpus or regressions) for `target`, by name.
    static func files(_ kind: String, _ target: String) -> [(name: String, bytes: [UInt8])] {
        let directory = "\(root)/\(kind)/\(target)"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        return names.compactMap { name in FileManager.default.contents(atPath: "\(directory)/\(name)").map { (name, Array($0)) } }
    }
}

/// The fuzz targets without the fuzzer: every seed is a valid object its target accepts, and
/// every input that once crashed a decoder is now refused with a typed error.
@Suite struct FuzzCorpusTests {
    static let targets = FuzzTargets.all.map(\.name)

    @Test(arguments: targets)
    func everySeedIsAccepted(_ name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let seeds = FuzzCorpus.files("corpus", name)
        #expect(!seeds.isEmpty, "Tests/Fuzz/corpus/\(name) has no seeds (run SeedGenerator)")
        for seed in seeds {
            #expect(throws: Never.self, "seed \(name)/\(seed.name)") { try target.run(seed.bytes) }
        }
    }

    @Test(arguments: targets)
    func everyRegressionIsRefusedWithATypedError(_ name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        for input in FuzzCorpus.files("regressions", name) {
            do {
                try target.run(input.bytes)
                Issue.record("regression \(name)/\(input.name) was accepted")
            } catch {
                #expect(error is any KindedError, "regression \(name)/\(input.name) threw \(type(of: error)): \(error)")
            }
        }
    }

    @Test func everyDirectoryNamesATarget() throws {
        for kind in ["corpus", "regressions"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(FuzzCorpus.root)/\(kind)")) ?? []
            for name in names where !name.hasPrefix(".") {
                #expect(FuzzTargets.named(name) != nil, "Tests/Fuzz/\(kind)/\(name) is no fuzz target")
            }
        }
    }
}
