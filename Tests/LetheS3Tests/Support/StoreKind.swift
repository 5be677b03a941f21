import Foundation
@testable import LetheS3
import LetheStore
import Testing

/// The stores the contract tests run against. Each test makes its own: a new directory for
/// `LocalStore`, a new prefix in the shared bucket for `S3Store` (or a new bucket, for the
/// versioning and Object Lock tests).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case local
    case s3

    var testDescription: String { rawValue == "s3" ? "S3Store" : "LocalStore" }

    /// A fresh, empty store of this kind; a LocalStore lives in `directory`, which the test
    /// suite keeps for as long as the test runs.
    func make(in directory: TestDirectory) throws -> any ObjectStore {
        switch self {
        case .local: return try LocalStore(root: "\(directory.path)/store-\(UUID().uuidString)")
        case .s3: return try TestS3.store(bucket: try TestS3.sharedBucket())
        }
    }
}

func key(_ text: String) -> ObjectKey { try! ObjectKey(text) }

/// Checks that `body` throws `ObjectTooShort` with these facts, whichever the store.
func expectTooShort(_ store: any ObjectStore, _ key: ObjectKey, size: Int, wanted: Range<Int>,
                    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a truncated-object error for \(key) \(wanted)", sourceLocation: sourceLocation)
    } catch let error as ObjectTooShort {
        #expect(error.key == key && error.size == size && error.wanted == wanted, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a truncated-object error, got \(error)", sourceLocation: sourceLocation)
    }
}
