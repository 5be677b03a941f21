import Foundation

/// Files beside the tests, found from this source file's path so that no resource needs
/// declaring in Package.swift.
enum TestFiles {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: repository.appendingPathComponent("Tests/LetheCoreTests/Fixtures/\(name)"))
    }
}
