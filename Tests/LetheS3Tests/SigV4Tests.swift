import Foundation
@testable import LetheS3
import LetheCrypto
import Testing

/// SigV4 against AWS's published vectors: the Signature Version 4 test suite (service
/// `service`) and the S3 API Reference's signing examples (service `s3`).
@Suite struct SigV4Tests {
    static let suite = (try? Fixtures.suite.vectors) ?? []
    static let s3Examples = (try? Fixtures.s3Examples.vectors) ?? []

    @Test func theFixturesAreBundledAndCiteTheirSources() throws {
        for file in [try Fixtures.suite, try Fixtures.s3Examples] {
            #expect(file.source.contains("https://docs.aws.amazon.com/"))
            #expect(!file.vectors.isEmpty)
        }
        #expect(Self.suite.count >= 20 && Self.s3Examples.count == 4)
    }

    @Test("the test suite's canonical request, string to sign and signature", arguments: suite)
    func testSuiteVector(_ vector: Fixtures.SigningVector) throws {
        try check(vector, in: Fixtures.suite)
    }

    @Test("the S3 API Reference's examples", arguments: s3Examples)
    func s3Example(_ vector: Fixtures.SigningVector) throws {
        try check(vector, in: Fixtures.s3Examples)
    }

    @Test func theSigningKeyIsDerivedAsPublished() throws {
        let example = try #require(try Fixtures.s3Examples.signingKey)
        let credentials = try S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secure(example.secretAccessKey))
        let signer = SigV4(credentials: credentials, region: example.region, service: example.service)
        let key = try signer.signingKey(day: example.date)
        #expect(key.withUnsafeBytes { testHex($0) } == example.kSigning)
    }

    @Test func theTimestampIsUTCInTheCompactForm() {
        #expect(SigV4.timestamp(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
        #expect(SigV4.timestamp(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
    }

    @Test func pathsAreEncodedOnceAndSlashesKept() {
        #expect(URIEncoding.path("/bucket/tenants/a b/c+d") == "/bucket/tenants/a%20b/c%2Bd")
        #expect(URIEncoding.path("/b/100%") == "/b/100%25", "a percent sign is data, not an escape: never decoded first")
        #expect(URIEncoding.path("") == "/")
        #expect(URIEncoding.encode("a/b") == "a%2Fb", "a slash in a query value is encoded")
    }

    @Test func queryParametersSortByEncodedNameThenValue() {
        #expect(URIEncoding.query([("prefix", "t/a"), ("list-type", "2"), ("a", "2"), ("a", "1")])
            == "a=1&a=2&list-type=2&prefix=t%2Fa")
        #expect(URIEncoding.query([("uploads", "")]) == "uploads=")
    }

    @Test func anAuthorizationNamesTheKeyIdButNeverTheSecret() throws {
        let file = try Fixtures.s3Examples
        let signer = SigV4(credentials: try S3Credentials(accessKeyID: file.accessKeyID, secretAccessKey: secure(file.secretAccessKey)),
                           region: file.region, service: file.service)
        let vector = try #require(file.vectors.first)
        let header = try signer.authorization(for: request(vector, signBody: false), timestamp: file.date)
        #expect(header.hasPrefix("AWS4-HMAC-SHA256 Credential=\(file.accessKeyID)/20130524/us-east-1/s3/aws4_request, "))
        #expect(!header.contains(file.secretAccessKey))
        #expect(!"\(signer)".contains(file.secretAccessKey) && !String(reflecting: signer).contains(file.secretAccessKey))
    }

    // MARK: Helpers

    private func request(_ vector: Fixtures.SigningVector, signBody: Bool) throws -> SigV4.Request {
        var headers = vector.headers.map { (name: $0[0], value: $0[1]) }
        let payload = testHex(try SHA256.hash(Array(vector.body.utf8)))
        if vector.signBody == true { headers.append(("X-Amz-Content-Sha256", payload)) }
        return SigV4.Request(method: vector.method, path: vector.path, query: vector.query.map { ($0[0], $0[1]) },
                             headers: headers, payloadHash: payload)
    }

    private func check(_ vector: Fixtures.SigningVector, in file: Fixtures.SigningFile) throws {
        let credentials = try S3Credentials(accessKeyID: file.accessKeyID, secretAccessKey: secure(file.secretAccessKey),
                                            sessionToken: vector.sessionToken)
        let signer = SigV4(credentials: credentials, region: file.region, service: file.service)
        var request = try request(vector, signBody: vector.signBody ?? false)
        // The suite's signer adds these; S3Client does the same.
        if !request.headers.contains(where: { $0.name.lowercased() == "x-amz-date" }) {
            request.headers.append(("X-Amz-Date", file.date))
        }
        if let token = vector.sessionToken { request.headers.append(("X-Amz-Security-Token", token)) }
        let canonical = signer.canonicalRequest(request)
        #expect(canonical == vector.canonicalRequest)
        let stringToSign = try signer.stringToSign(canonicalRequest: canonical, timestamp: file.date)
        #expect(stringToSign == vector.stringToSign)
        #expect(try signer.signature(stringToSign: stringToSign, timestamp: file.date) == vector.signature)
        if let authorization = vector.authorization {
            #expect(try signer.authorization(for: request, timestamp: file.date) == authorization)
        }
    }
}
