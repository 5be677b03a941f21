import Foundation
@testable import LetheS3
import LetheStore
import Testing

/// S3's XML answers: each shape S3Store reads, and input it must refuse without trapping.
@Suite struct XMLResponseTests {
    func data(_ text: String) -> Data { Data(text.utf8) }
    let ns = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

    @Test func aListObjectsV2PageHasObjectsPrefixesAndTheNextToken() throws {
        let page = try S3Responses.ListObjectsPage.parse(data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult \(ns)><Name>b</Name><Prefix>t/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
            <IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
            <Contents><Key>t/a</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>10</Size></Contents>
            <Contents><Key>t/b &amp; c</Key><Size>0</Size></Contents>
            <CommonPrefixes><Prefix>t/d/</Prefix></CommonPrefixes></ListBucketResult>
            """))
        #expect(page.objects == [.init(key: "t/a", size: 10), .init(key: "t/b & c", size: 0)])
        #expect(page.commonPrefixes == ["t/d/"])
        #expect(page.continuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    @Test func theLastPageHasNoToken() throws {
        let page = try S3Responses.ListObjectsPage.parse(data("<ListBucketResult \(ns)><IsTruncated>false</IsTruncated></ListBucketResult>"))
        #expect(page.objects.isEmpty && page.continuationToken == nil)
    }

    @Test func aTruncatedPageWithoutATokenIsRefused() {
        #expect(throws: XMLRefused(problem: "a truncated <ListBucketResult> has no <NextContinuationToken>")) {
            _ = try S3Responses.ListObjectsPage.parse(data("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"))
        }
    }

    @Test func aVersionListingKeepsVersionsAndDeleteMarkersInOrder() throws {
        let page = try S3Responses.ListVersionsPage.parse(data("""
            <ListVersionsResult \(ns)><IsTruncated>true</IsTruncated><NextKeyMarker>t/b</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>
            <DeleteMarker><Key>t/a</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest><LastModified>2026-01-03T00:00:00Z</LastModified></DeleteMarker>
            <Version><Key>t/a</Key><VersionId>v2</VersionId><Size>5</Size><LastModified>2026-01-02T00:00:00.000Z</LastModified></Version>
            <Version><Key>t/b</Key><VersionId>null</VersionId><Size>7</Size><LastModified>2026-01-01T00:00:00Z</LastModified></Version>
            </ListVersionsResult>
            """))
        #expect(page.entries.map(\.versionID) == ["v3", "v2", "null"])
        #expect(page.entries.map(\.isDeleteMarker) == [true, false, false])
        #expect(page.entries.map(\.size) == [0, 5, 7])
        #expect(page.entries[1].lastModified == Timestamp.parse("2026-01-02T00:00:00Z"))
        #expect(page.next?.key == "t/b" && page.next?.versionID == "v9")
    }

    @Test func multipartUploadListingsGiveKeysAndIds() throws {
        let page = try S3Responses.ListUploadsPage.parse(data("""
            <ListMultipartUploadsResult \(ns)><Bucket>b</Bucket><IsTruncated>false</IsTruncated>
            <Upload><Key>t/a</Key><UploadId>u1</UploadId></Upload><Upload><Key>t/b</Key><UploadId>u2</UploadId></Upload>
            </ListMultipartUploadsResult>
            """))
        #expect(page.uploads.map(\.key) == ["t/a", "t/b"] && page.uploads.map(\.uploadID) == ["u1", "u2"] && page.next == nil)
    }

    @Test func deleteResultsListTheKeysThatFailed() throws {
        let result = try S3Responses.DeleteResult.parse(data("""
            <DeleteResult \(ns)><Deleted><Key>t/a</Key></Deleted>
            <Error><Key>t/b</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>
            """))
        #expect(result.failures.map(\.key) == ["t/b"] && result.failures.map(\.code) == ["AccessDenied"])
    }

    @Test func uploadIdsETagsVersioningAndLocks() throws {
        #expect(try S3Responses.uploadID(data("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc</UploadId></InitiateMultipartUploadResult>")) == "abc")
        #expect(try S3Responses.completedETag(data("<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>")) == "\"e-2\"")
        #expect(try S3Responses.versioning(data("<VersioningConfiguration \(ns)/>")) == .unversioned)
        #expect(try S3Responses.versioning(data("<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>")) == .suspended)
        let lock = try S3Responses.ObjectLock.parse(data("""
            <ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>
            <Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>
            """))
        #expect(lock == .init(enabled: true, defaultRetention: .init(mode: "COMPLIANCE", days: nil, years: 1)))
        let retention = try S3Responses.retention(data("<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>"))
        #expect(retention.mode == "GOVERNANCE" && retention.until == Timestamp.parse("2030-01-01T00:00:00Z"))
        #expect(try S3Responses.legalHoldIsOn(data("<LegalHold><Status>ON</Status></LegalHold>")))
        #expect(try S3Responses.legalHoldIsOn(data("<LegalHold><Status>OFF</Status></LegalHold>")) == false)
    }

    /// CompleteMultipartUpload may answer 200 and then report the failure in the body.
    @Test func anErrorDocumentIsRecognizedWhateverTheStatus() throws {
        let body = data("<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.\nPlease try again.</Message><RequestId>1</RequestId></Error>")
        #expect(S3Responses.ErrorDocument.parse(body) == .init(code: "InternalError", message: "We encountered an internal error. Please try again."))
        #expect(throws: XMLRefused.self) { _ = try S3Responses.completedETag(body) }
        #expect(S3Responses.ErrorDocument.parse(data("<CompleteMultipartUploadResult><ETag>e</ETag></CompleteMultipartUploadResult>")) == nil)
        #expect(S3Responses.ErrorDocument.parse(data("<html>502 Bad Gateway</html>")) == nil)
        #expect(S3Responses.ErrorDocument.parse(Data()) == nil)
    }

    @Test(arguments: [
        "", "not xml", "<ListBucketResult>", "<ListBucketResult></Other>", "<a/><b/>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>1e3</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
        "<ListVersionsResult/>",
        "\u{FEFF}<ListBucketResult>\u{0}</ListBucketResult>",
    ])
    func malformedListingsAreRefused(_ text: String) {
        #expect(throws: XMLRefused.self) { _ = try S3Responses.ListObjectsPage.parse(data(text)) }
    }

    @Test func aDocumentTypeDeclarationIsRefusedBeforeParsing() {
        let billionLaughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><Error><Code>&lol2;</Code></Error>"
        #expect(throws: XMLRefused(problem: "the XML answer has a document type declaration")) { _ = try XMLTree.parse(data(billionLaughs)) }
        #expect(S3Responses.ErrorDocument.parse(data(billionLaughs)) == nil)
    }

    @Test func treesBeyondTheirLimitsAreRefused() {
        let deep = String(repeating: "<a>", count: 20) + String(repeating: "</a>", count: 20)
        #expect(throws: XMLRefused(problem: "the XML answer is nested deeper than 16")) { _ = try XMLTree.parse(data(deep)) }
        let wide = "<r>" + String(repeating: "<k/>", count: 11) + "</r>"
        #expect(throws: XMLRefused(problem: "the XML answer has more than 10 elements")) {
            _ = try XMLTree.parse(data(wide), limits: .init(elements: 10))
        }
        let long = "<r>" + String(repeating: "x", count: 200) + "</r>"
        #expect(throws: XMLRefused(problem: "an XML element's text exceeds 100 bytes")) {
            _ = try XMLTree.parse(data(long), limits: .init(textBytes: 100))
        }
        #expect(throws: XMLRefused(problem: "the XML answer exceeds 64 bytes")) { _ = try XMLTree.parse(data(long), limits: .init(bytes: 64)) }
    }

    /// libxml2 reports these once per occurrence, and FoundationXML leaks a string per report
    /// (docs/fuzzing.md): they are refused before parsing. References that are well formed
    /// still work.
    @Test(arguments: [
        "<Error><Code>&foo;</Code></Error>", "<Error><Code>&amp</Code></Error>", "<Error><Code>&#0;</Code></Error>",
        "<Error><Code>&#xFFFE;</Code></Error>", "<Error><Code>&#12345678901;</Code></Error>", "<Error><Code>a]]>b</Code></Error>",
        "<Error><Code><![CDATA[x]]></Code></Error>", "<Error><Code>\u{1}</Code></Error>",
        // FoundationXML dereferenced a null pointer on a processing instruction without data.
        "<?x?><Error><Code>c</Code></Error>", "<Error><?x?><Code>c</Code></Error>", "<?xml version=\"1.0\"?><?pi data?><Error/>",
    ])
    func whatLibxml2ReportsByteByByteIsRefusedBeforeParsing(_ text: String) {
        #expect(throws: XMLRefused.self) { _ = try XMLTree.parse(data(text)) }
    }

    @Test func theXMLDeclarationIsRead() throws {
        #expect(try XMLTree.parse(data("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>c</Code></Error>")).text("Code") == "c")
    }

    @Test func wellFormedReferencesAreRead() throws {
        let root = try XMLTree.parse(data("<Error><Code>a &amp; b &lt;&gt;&quot;&apos; &#65;&#x42;&#x1F600;</Code></Error>"))
        #expect(root.text("Code") == "a & b <>\"' AB\u{1F600}")
        #expect(throws: XMLRefused.self) { _ = try XMLTree.parse(Data([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e])) }
    }

    @Test func namespacePrefixesAreIgnored() throws {
        let root = try XMLTree.parse(data("<s3:Error xmlns:s3=\"urn:x\"><s3:Code>SlowDown</s3:Code></s3:Error>"))
        #expect(root.name == "Error" && root.text("Code") == "SlowDown")
    }
}
