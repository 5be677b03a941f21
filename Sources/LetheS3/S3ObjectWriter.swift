import Foundation
import LetheStore

/// An S3 object written in pieces: a multipart upload, started once a whole part (at least
/// 5 MiB) is buffered. An object that never fills a part is sent as one PutObject at `commit()`.
/// Nothing is visible under the key before `CompleteMultipartUpload` succeeds.
///
/// Any failure aborts the upload (AbortMultipartUpload) before the error is thrown, and so does
/// releasing the writer uncommitted. A process that dies mid-upload leaves an incomplete upload
/// that holds parts but shows no object; `S3Store.discardIncompleteWrites` removes it.
///
/// Retries, part by part: UploadPart is safe to repeat (the same part number is replaced by
/// the same bytes); CompleteMultipartUpload is repeated with the same part list, and a repeat
/// whose first attempt had succeeded gets 404 NoSuchUpload, so that answer is followed by a
/// HeadObject: the upload completed exactly when the object carries this upload's write id
/// (`x-amz-meta-lethe-write`, set at CreateMultipartUpload). A repeated CreateMultipartUpload
/// whose first answer was lost leaves an empty upload, which discardIncompleteWrites removes.
final class S3ObjectWriter: ObjectWriter {
    static let writeIDHeader = "x-amz-meta-lethe-write"

    private let client: S3Client
    private let key: String
    private let partSize: Int
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var parts: [(number: Int, etag: String, checksum: String)] = []
    private var finished = false
    private let writeID: String

    /// `writeID` marks the object this writer makes (random, from `S3Store.newWriteID`).
    init(client: S3Client, key: String, partSize: Int, writeID: String) {
        self.client = client
        self.key = key
        self.partSize = partSize
        self.writeID = writeID
        buffer.reserveCapacity(partSize)
    }

    deinit {
        if !finished { abort() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after commit or abort")
        do {
            // The buffer is filled to exactly one part, sent, and refilled in place: no bytes
            // are moved within it, and its memory is reused for every part.
            var rest = bytes
            while !rest.isEmpty {
                let taken = min(partSize - buffer.count, rest.count)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
                rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
                if buffer.count == partSize {
                    try upload(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            abort()
            throw error
        }
    }

    func commit() throws {
        precondition(!finished, "commit after commit or abort")
        do {
            if uploadID == nil {
                try putWhole()
            } else {
                if !buffer.isEmpty { try upload(buffer) }
                try complete()
            }
        } catch {
            abort()
            throw error
        }
        finished = true
        buffer = []
    }

    /// Discards what was written: AbortMultipartUpload, repeated until answered. An upload that
    /// cannot be aborted now (S3 unreachable) is left for `discardIncompleteWrites`.
    func abort() {
        guard !finished else { return }
        finished = true
        buffer = []
        guard let uploadID else { return }
        let request = S3Request(operation: "AbortMultipartUpload", method: "DELETE", key: key, query: [("uploadId", uploadID)])
        _ = try? client.perform(request)
    }

    // MARK: Steps

    private func putWhole() throws {
        let request = S3Request(operation: "PutObject", method: "PUT", key: key,
                                headers: [try S3Request.checksumHeader(buffer), (Self.writeIDHeader, writeID)], body: buffer)
        try client.performExpectingSuccess(request)
    }

    private func start() throws -> String {
        let request = S3Request(operation: "CreateMultipartUpload", method: "POST", key: key, query: [("uploads", "")],
                                headers: [("x-amz-checksum-algorithm", "SHA256"), (Self.writeIDHeader, writeID)])
        let response = try client.performExpectingSuccess(request)
        let id = try client.decode(request, response, S3Responses.uploadID)
        uploadID = id
        return id
    }

    private func upload(_ part: [UInt8]) throws {
        let id = try uploadID ?? start()
        let number = parts.count + 1
        let checksum = try S3Request.checksumHeader(part)
        let request = S3Request(operation: "UploadPart", method: "PUT", key: key,
                                query: [("partNumber", "\(number)"), ("uploadId", id)], headers: [checksum], body: part)
        let response = try client.performExpectingSuccess(request)
        guard let etag = response.header("etag"), !etag.isEmpty else {
            throw S3Error("UploadPart", bucket: client.bucket, key: key,
                          reason: .malformedResponse("no ETag for part \(number)"), attempts: response.attempts)
        }
        parts.append((number, etag, checksum.value))
    }

    private func complete() throws {
        guard let uploadID else { return }
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(XMLText.escape(part.etag))</ETag>"
                + "<ChecksumSHA256>\(part.checksum)</ChecksumSHA256></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        let request = S3Request(operation: "CompleteMultipartUpload", method: "POST", key: key, query: [("uploadId", uploadID)],
                                headers: [("content-type", "application/xml")], body: body,
                                retry: .safeIncludingErrorBody)
        // 200 can carry an <Error> document, sent when the failure came after the status line:
        // retried like a 5xx (`.safeIncludingErrorBody`), then thrown.
        let response = try client.perform(request)
        if response.status == 200, let error = S3Responses.ErrorDocument.parse(response.body) {
            throw S3Error("CompleteMultipartUpload", bucket: client.bucket, key: key,
                          reason: .service(status: 200, code: error.code, message: error.message), attempts: response.attempts)
        }
        if response.status == 404, response.attempts > 1, S3Responses.ErrorDocument.parse(response.body)?.code == "NoSuchUpload",
           try holdsWrite() {
            self.uploadID = nil
            return
        }
        guard response.status == 200 else { throw client.failure(request, response) }
        _ = try client.decode(request, response, S3Responses.completedETag)
        self.uploadID = nil
    }

    /// Whether the object under the key is the one this upload made (see the type's comment).
    private func holdsWrite() throws -> Bool {
        let request = S3Request(operation: "HeadObject", method: "HEAD", key: key)
        let response = try client.perform(request)
        return response.status == 200 && response.header(Self.writeIDHeader) == writeID
    }
}

/// Text and attribute escaping for the XML bodies S3Store sends.
enum XMLText {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
