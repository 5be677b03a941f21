import Foundation
@testable import LetheS3
import LetheCrypto
import LetheStore
import Testing

/// What S3Store does beyond the shared contract, against the real SeaweedFS: checksums,
/// credentials from each source, errors that name the bucket and code and no secret.
@Suite struct S3StoreTests {
    @Test func aBodyThatDoesNotMatchItsChecksumIsRefusedWithBadDigest() throws {
        let bucket = try TestS3.sharedBucket()
        let client = try TestS3.client(bucket: bucket)
        let wrong = Data(try SHA256.hash([9, 9, 9])).base64EncodedString()
        let put = S3Request(operation: "PutObject", method: "PUT", key: TestS3.uniqueName("bad"),
                            headers: [("x-amz-checksum-sha256", wrong)], body: [1, 2, 3])
        let error = #expect(throws: S3Error.self) { try client.performExpectingSuccess(put) }
        #expect(error?.status == 400 && error?.code == "BadDigest")
        #expect(error?.attempts == 1, "a 400 is an answer, not a reason to retry")
    }

    @Test func aPartThatDoesNotMatchItsChecksumIsRefusedWithBadDigest() throws {
        let bucket = try TestS3.sharedBucket()
        let client = try TestS3.client(bucket: bucket)
        let key = TestS3.uniqueName("badpart")
        let create = S3Request(operation: "CreateMultipartUpload", method: "POST", key: key, query: [("uploads", "")],
                               headers: [("x-amz-checksum-algorithm", "SHA256")])
        let uploadID = try client.decode(create, try client.performExpectingSuccess(create), S3Responses.uploadID)
        let wrong = Data(try SHA256.hash([9])).base64EncodedString()
        let part = S3Request(operation: "UploadPart", method: "PUT", key: key, query: [("partNumber", "1"), ("uploadId", uploadID)],
                             headers: [("x-amz-checksum-sha256", wrong)], body: testBytes(1000, seed: 1))
        let error = #expect(throws: S3Error.self) { try client.performExpectingSuccess(part) }
        #expect(error?.code == "BadDigest")
        try client.performExpectingSuccess(S3Request(operation: "AbortMultipartUpload", method: "DELETE", key: key,
                                                     query: [("uploadId", uploadID)]))
    }

    @Test func credentialsComeFromAPrivateCredentialsFile() throws {
        let configuration = try TestS3.configuration(bucket: try TestS3.sharedBucket(), prefix: TestS3.uniqueName("file"))
        var fromFile = configuration
        fromFile.credentials = .file(path: try TestS3.credentialsFile)
        let store = try S3Store(configuration: fromFile)
        try store.put(key("x"), [1, 2, 3])
        #expect(try store.get(key("x")) == [1, 2, 3])
    }

    @Test func credentialsComeFromTheEnvironment() throws {
        var configuration = try TestS3.configuration(bucket: try TestS3.sharedBucket(), prefix: TestS3.uniqueName("env"))
        configuration.credentials = .environment
        let environment = ["AWS_ACCESS_KEY_ID": try TestS3.variable("LETHE_TEST_S3_ACCESS_KEY_ID"),
                           "AWS_SECRET_ACCESS_KEY": try TestS3.variable("LETHE_TEST_S3_SECRET_ACCESS_KEY")]
        let store = try S3Store(configuration: configuration, environment: environment)
        try store.put(key("x"), [4])
        #expect(try store.get(key("x")) == [4])
        #expect(throws: S3ConfigurationError.missingEnvironment("AWS_SECRET_ACCESS_KEY")) {
            _ = try S3Store(configuration: configuration, environment: ["AWS_ACCESS_KEY_ID": "AKID"])
        }
    }

    @Test func aWrongSecretIsRefusedAndTheErrorShowsNoCredential() throws {
        let secret = "wrong-secret-\(UUID().uuidString)"
        var configuration = try TestS3.configuration(bucket: try TestS3.sharedBucket(), prefix: TestS3.uniqueName("auth"))
        let accessKeyID = try TestS3.variable("LETHE_TEST_S3_ACCESS_KEY_ID")
        configuration.credentials = .explicit(try S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secure(secret)))
        let store = try S3Store(configuration: configuration)
        let error = #expect(throws: S3Error.self) { try store.put(key("x"), [1]) }
        #expect(error?.status == 403 && error?.code == "SignatureDoesNotMatch")
        let text = "\(error.map { "\($0)" } ?? "") \(store) \(String(reflecting: store)) \(configuration)"
        #expect(!text.contains(secret) && !text.contains(accessKeyID), "\(text)")
        #expect(error?.key == "\(configuration.prefix)/x" && error?.bucket == configuration.bucket)
    }

    @Test func aMissingBucketIsAnErrorNamingItNotAMissingObject() throws {
        let store = try TestS3.store(bucket: TestS3.uniqueName("absent"))
        let error = #expect(throws: S3Error.self) { _ = try store.get(key("x")) }
        #expect(error?.status == 404 && error?.code == "NoSuchBucket")
        #expect(error.map { "\($0)" }?.hasPrefix("S3 GetObject s3://\(store.configuration.bucket)/") == true)
    }

    @Test func theLocationNamesBucketPrefixAndEndpointOnly() throws {
        let store = try TestS3.store(bucket: try TestS3.sharedBucket(), prefix: "lethe/prod")
        let endpoint = try TestS3.endpoint.absoluteString
        #expect(store.location == "s3://\(store.configuration.bucket)/lethe/prod (\(endpoint))")
        let secret = try TestS3.variable("LETHE_TEST_S3_SECRET_ACCESS_KEY")
        for text in [store.location, "\(store)", String(reflecting: store), "\(store.configuration)"] {
            #expect(!text.contains(secret))
        }
    }

    @Test func keysLiveUnderThePrefix() throws {
        let bucket = try TestS3.sharedBucket()
        let prefix = TestS3.uniqueName("pfx") + "/deeper"
        let store = try TestS3.store(bucket: bucket, prefix: prefix)
        try store.put(key("tenants/a/x"), [1])
        let root = try TestS3.store(bucket: bucket, prefix: "")
        #expect(try root.get(try ObjectKey("\(prefix)/tenants/a/x")) == [1])
        #expect(try store.children(of: key("tenants")) == ["a"])
    }
}
