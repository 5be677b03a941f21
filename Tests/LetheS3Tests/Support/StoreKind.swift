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

/// Checks that `body` throws the truncated-object error of `store`'s kind with these facts:
/// `ObjectTooShort` from LocalStore; from S3Store, `S3Error` with reason `.objectTooShort`,
/// since `ObjectTooShort` cannot be made outside LetheStore (see docs/s3.md).
func expectTooShort(_ store: any ObjectStore, _ key: ObjectKey, size: Int, wanted: Range<Int>,
                    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a truncated-object error for \(key) \(wanted)", sourceLocation: sourceLocation)
    } catch let error as ObjectTooShort {
        #expect(store is LocalStore, sourceLocation: sourceLocation)
        #expect(error.key == key && error.size == size && error.wanted == wanted, sourceLocation: sourceLocation)
    } catch let error as S3Error {
        #expect(store is S3Store, sourceLocation: sourceLocation)
        #expect(error.reason == .objectTooShort(size: size, wanted: wanted), "\(error)", sourceLocation: sourceLocation)
        #expect(error.key?.hasSuffix("/\(key.rawValue)") == true, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a truncated-object error, got \(error)", sourceLocation: sourceLocation)
    }
}
