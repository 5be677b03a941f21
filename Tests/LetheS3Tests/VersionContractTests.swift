import Foundation
@testable import LetheS3
import LetheStore
import Testing

/// Versions, delete markers and Object Lock holds: what destruction reads before it deletes.
/// LocalStore and an unversioned bucket keep no versions; a versioned bucket keeps every
/// overwrite and delete; a bucket with Object Lock reports what it would refuse to delete.
@Suite struct VersionContractTests {
    /// Where a LocalStore lives; kept as long as the test runs.
    let directory = TestDirectory()

    @Test(arguments: StoreKind.allCases)
    func aStoreWithoutVersioningListsEachObjectOnceWithoutAVersionID(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        #expect(try store.versioning() == .unversioned)
        try store.put(key("tenants/a/x"), [1, 2])
        try store.put(key("tenants/a/x"), [3])
        try store.put(key("tenants/a/y"), [4, 5, 6])
        try store.put(key("tenants/a.old/z"), [7])
        let versions = try store.versions(prefix: key("tenants/a"))
        #expect(versions == [
            ObjectVersion(key: key("tenants/a/x"), versionID: nil, isDeleteMarker: false, size: 1),
            ObjectVersion(key: key("tenants/a/y"), versionID: nil, isDeleteMarker: false, size: 3),
        ])
        for version in versions { try store.delete(version) }
        #expect(try store.versions(prefix: key("tenants/a")).isEmpty)
        #expect(try store.list(prefix: key("tenants/a.old")).count == 1)
        #expect(try store.holds(prefix: key("tenants/a.old")).isEmpty)
    }

    @Test func aVersionedBucketKeepsEveryVersionAndDeleteMarkerUntilEachIsDeleted() throws {
        let store = try TestS3.store(bucket: try TestS3.makeBucket(versioned: true))
        #expect(try store.versioning() == .enabled)
        try store.put(key("tenants/a/x"), [1])
        try store.put(key("tenants/a/x"), [2, 2])
        try store.delete(key("tenants/a/x"))
        try store.put(key("tenants/a/y"), [3, 3, 3])
        try store.put(key("tenants/a"), [4])
        try store.put(key("tenants/a.old/z"), [5])
        let visible = try store.list(prefix: key("tenants/a")).map(\.key.rawValue)
        #expect(visible == ["tenants/a", "tenants/a/y"])

        let versions = try store.versions(prefix: key("tenants/a"))
        #expect(versions.map(\.key.rawValue) == ["tenants/a", "tenants/a/x", "tenants/a/x", "tenants/a/x", "tenants/a/y"])
        #expect(versions.filter(\.isDeleteMarker).map(\.key) == [key("tenants/a/x")])
        #expect(versions.filter { !$0.isDeleteMarker }.map(\.size).sorted() == [1, 1, 2, 3])
        #expect(versions.allSatisfy { $0.versionID != nil }, "each has S3's id")
        #expect(Set(versions.compactMap(\.versionID)).count == versions.count)
        #expect(try store.holds(prefix: key("tenants/a")).isEmpty, "no Object Lock on this bucket")

        for version in versions { try store.delete(version) }
        #expect(try store.versions(prefix: key("tenants/a")).isEmpty)
        #expect(try store.list(prefix: key("tenants/a")).isEmpty)
        #expect(try store.versions(prefix: key("tenants/a.old")).count == 1, "a sibling's versions are untouched")
        try store.delete(versions[0])
    }

    @Test(arguments: StoreKind.allCases)
    func aStoreWithoutObjectLockHasNoHolds(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        try store.put(key("tenants/a/x"), [1])
        #expect(try store.holds(prefix: key("tenants/a")).isEmpty)
    }

    @Test func aRetentionOnOneVersionIsReportedAsAHold() throws {
        let bucket = try TestS3.makeBucket(objectLock: true)
        let store = try TestS3.store(bucket: bucket)
        try store.put(key("tenants/a/x"), [1])
        try store.put(key("tenants/a/x"), [2])
        try store.put(key("tenants/a/y"), [3])
        let old = try #require(try store.versions(prefix: key("tenants/a/x")).last)
        let until = Date(timeIntervalSinceNow: 30 * 86_400)
        try TestS3.sendXML(try TestS3.client(bucket: bucket), "PutObjectRetention", key: store.s3Key(old.key),
                           query: [("retention", ""), ("versionId", try #require(old.versionID))],
                           "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>\(Timestamp.format(until))</RetainUntilDate></Retention>")
        let holds = try store.holds(prefix: key("tenants/a"))
        #expect(holds.map(\.version) == [old])
        #expect(holds.first?.reason == "GOVERNANCE retention until \(Timestamp.format(until))")
    }

    @Test func aRetentionThatHasPassedIsNoHold() throws {
        let bucket = try TestS3.makeBucket(objectLock: true)
        let clock = ManualClock(Date())
        let store = try TestS3.store(bucket: bucket, clock: clock)
        try store.put(key("tenants/a/x"), [1])
        let version = try #require(try store.versions(prefix: key("tenants/a")).first)
        let until = Date(timeIntervalSinceNow: 3600)
        try TestS3.sendXML(try TestS3.client(bucket: bucket), "PutObjectRetention", key: store.s3Key(version.key),
                           query: [("retention", ""), ("versionId", try #require(version.versionID))],
                           "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>\(Timestamp.format(until))</RetainUntilDate></Retention>")
        #expect(try store.holds(prefix: key("tenants/a")).count == 1)
        clock.advance(by: 7200)
        #expect(try store.holds(prefix: key("tenants/a")).isEmpty, "the store's clock is past the date")
    }

    @Test func aLegalHoldIsReported() throws {
        let bucket = try TestS3.makeBucket(objectLock: true)
        let store = try TestS3.store(bucket: bucket)
        try store.put(key("tenants/a/x"), [1])
        let version = try #require(try store.versions(prefix: key("tenants/a")).first)
        try TestS3.sendXML(try TestS3.client(bucket: bucket), "PutObjectLegalHold", key: store.s3Key(version.key),
                           query: [("legal-hold", ""), ("versionId", try #require(version.versionID))],
                           "<LegalHold><Status>ON</Status></LegalHold>")
        #expect(try store.holds(prefix: key("tenants/a")) == [RetentionHold(version: version, reason: "legal hold")])
    }

    @Test func aBucketDefaultRetentionHoldsEveryNewVersion() throws {
        let bucket = try TestS3.makeBucket(objectLock: true)
        try TestS3.sendXML(try TestS3.client(bucket: bucket), "PutObjectLockConfiguration", key: nil, query: [("object-lock", "")],
                           "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
                               + "<Mode>GOVERNANCE</Mode><Days>2</Days></DefaultRetention></Rule></ObjectLockConfiguration>")
        let store = try TestS3.store(bucket: bucket)
        try store.put(key("tenants/a/x"), [1])
        let holds = try store.holds(prefix: key("tenants/a"))
        #expect(holds.map(\.version.key) == [key("tenants/a/x")])
        #expect(holds.first?.reason.contains("retention") == true && holds.first?.reason.contains("GOVERNANCE") == true,
                "\(holds)")
    }
}
