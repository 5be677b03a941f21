import Foundation
import LetheStore

/// An S3 object written in pieces: a multipart upload, started once a whole part (at least
/// 5 MiB) is buffered. An object that never fills a part is sent as one PutObject at `commit()`.
/// Nothing is visible under the key before `CompleteMultipartUpload` succeeds.
///
/// A full part is sent on a queue of its own while the caller fills the next one, so the
/// backup's reading, compressing and sealing overlaps the upload instead of waiting for it; at
/// most one part is in flight per writer, and a failed part is thrown by the next `write` that
/// fills a part, or by `commit`.
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
    private var parts: [Part] = []
    /// The part being sent while `buffer` fills, on `queue`.
    private var inFlight: PartUpload?
    private let queue = DispatchQueue(label: "lethe-s3-part")
    private var finished = false
    private let writeID: String

    /// `writeID` marks the object this writer makes (random, from `S3Store.newWriteID`).
    init(client: S3Client, key: String, partSize: Int, writeID: String) {
        self.client = client
        self.key = key
        self.partSize = partSize
        self.writeID = writeID
    }

    deinit {
        if !finished { abort() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after commit or abort")
        do {
            // The buffer is filled to exactly one part and handed to its upload; the bytes of
            // the part sent before it are refilled in its place, so two parts' memory is reused.
            var rest = bytes
            while !rest.isEmpty {
                let taken = min(partSize - buffer.count, rest.count)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
                rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
                if buffer.count == partSize {
                    var next = try send(buffer) ?? []
                    next.removeAll(keepingCapacity: true)
                    next.reserveCapacity(partSize)
                    buffer = next
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
                _ = try collect()
                if !buffer.isEmpty {
                    parts.append(try Self.uploadPart(buffer, number: parts.count + 1, client: client, key: key, uploadID: uploadID!))
                }
                try complete()
            }
        } catch {
            abort()
            throw error
        }
        finished = true
        buffer = []
    }

    /// Discards what was written: AbortMultipartUpload, repeated until answered, once the part
    /// in flight has ended. An upload that cannot be aborted now (S3 unreachable) is left for
    /// `discardIncompleteWrites`.
    func abort() {
        guard !finished else { return }
        finished = true
        buffer = []
        if let upload = inFlight {
            inFlight = nil
            _ = try? upload.wait()
        }
        guard let uploadID else { return }
        let request = S3Request(operation: "AbortMultipartUpload", method: "DELETE", key: key, query: [("uploadId", uploadID)])
        _ = try? client.perform(request)
    }

    // MARK: Steps

    /// Starts the upload of `part` once the one before it is stored; returns that one's bytes
    /// for reuse.
    private func send(_ part: [UInt8]) throws -> [UInt8]? {
        let id = try uploadID ?? start()
        let recycled = try collect()
        inFlight = PartUpload(part, number: parts.count + 1, on: queue) { [client, key] bytes, number in
            try Self.uploadPart(bytes, number: number, client: client, key: key, uploadID: id)
        }
        return recycled
    }

    /// Waits for the part in flight and records it; returns its bytes.
    private func collect() throws -> [UInt8]? {
        guard let upload = inFlight else { return nil }
        inFlight = nil
        let (part, bytes) = try upload.wait()
        parts.append(part)
        return bytes
    }

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

    private static func uploadPart(_ part: [UInt8], number: Int, client: S3Client, key: String, uploadID: String) throws -> Part {
        let checksum = try S3Request.checksumHeader(part)
        let request = S3Request(operation: "UploadPart", method: "PUT", key: key,
                                query: [("partNumber", "\(number)"), ("uploadId", uploadID)], headers: [checksum], body: part)
        let response = try client.performExpectingSuccess(request)
        guard let etag = response.header("etag"), !etag.isEmpty else {
            throw S3Error("UploadPart", bucket: client.bucket, key: key,
                          reason: .malformedResponse("no ETag for part \(number)"), attempts: response.attempts)
        }
        return Part(number: number, etag: etag, checksum: checksum.value)
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

/// A stored part, as CompleteMultipartUpload lists it.
private struct Part {
    let number: Int
    let etag: String
    let checksum: String
}

/// One UploadPart, sent on the writer's serial queue (which, as every queue not bound to
/// a fixed-width pool, gets a thread of its own even when others block in I/O). The writer
/// hands it the part's bytes and takes them back with the outcome from `wait`; nothing else is
/// shared, and the semaphore orders the queue's writes before the writer's reads (hence
/// `@unchecked Sendable`).
private final class PartUpload: @unchecked Sendable {
    private var bytes: [UInt8]
    private var outcome: Result<Part, Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ bytes: [UInt8], number: Int, on queue: DispatchQueue, upload: @escaping @Sendable ([UInt8], Int) throws -> Part) {
        self.bytes = bytes
        queue.async { [self] in
            outcome = Result { try upload(self.bytes, number) }
            done.signal()
        }
    }

    /// The stored part and the bytes sent, once the upload has ended; its error if it failed.
    func wait() throws -> (Part, [UInt8]) {
        done.wait()
        let sent = bytes
        bytes = []
        return (try outcome!.get(), sent)
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
