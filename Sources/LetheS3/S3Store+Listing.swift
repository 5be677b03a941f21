import Foundation
import LetheStore

/// Listings, batch deletes and the cleanup of incomplete uploads.
///
/// "Under `prefix`" means the key itself or keys below it (`tenants/alpha` and
/// `tenants/alpha/…`, never `tenants/alpha.old`). S3 prefixes are plain string prefixes, so
/// each listing asks for `P/` (everything below) and, separately, for `P` itself: by HeadObject
/// for the object, by a listing of prefix `P` with delimiter `/` for its versions (which folds
/// every `P…/` sibling into one common prefix). Neither relies on the order of keys in a
/// listing: SeaweedFS 4.48 lists `P/x` before `P` when `P` is also a folder of a versioned
/// bucket, where S3 sorts `P` first.
extension S3Store {
    /// Keys per ListObjectsV2 / ListObjectVersions page, and per DeleteObjects request: S3's maximum.
    static let pageSize = 1000

    public func list(prefix: ObjectKey) throws -> [ObjectInfo] {
        var found: [ObjectInfo] = []
        if let size = try size(of: prefix) { found.append(ObjectInfo(key: prefix, size: size)) }
        found += try list(below: prefix)
        return found.sorted { $0.key < $1.key }
    }

    /// One listing of `P/`: no HeadObject of `P` itself.
    public func list(below prefix: ObjectKey) throws -> [ObjectInfo] {
        try listObjects(prefix: s3Key(prefix) + "/").objects.compactMap { object in
            objectKey(object.key).map { ObjectInfo(key: $0, size: object.size) }
        }.sorted { $0.key < $1.key }
    }

    public func children(of prefix: ObjectKey) throws -> [String] {
        let base = s3Key(prefix) + "/"
        let listing = try listObjects(prefix: base, delimiter: "/")
        var names = Set<String>()
        for entry in listing.objects.map(\.key) + listing.commonPrefixes {
            var name = entry.dropFirst(base.count)
            if name.hasSuffix("/") { name = name.dropLast() }
            if !name.isEmpty, !name.contains("/"), (try? ObjectKey(String(name))) != nil { names.insert(String(name)) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// DeleteObjects, a thousand keys per request, in quiet mode (only failures are listed). A
    /// key S3 reports as not deleted makes the whole call fail, naming it. Safe to repeat:
    /// deleting what is gone succeeds.
    public func delete(_ keys: [ObjectKey]) throws {
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + Self.pageSize, keys.count)].map(s3Key)
            start += batch.count
            var xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
            for key in batch { xml += "<Object><Key>\(XMLText.escape(key))</Key></Object>" }
            xml += "</Delete>"
            let body = Array(xml.utf8)
            let request = S3Request(operation: "DeleteObjects", method: "POST", key: nil, query: [("delete", "")],
                                    headers: [("content-type", "application/xml"), try S3Request.checksumHeader(body)], body: body)
            let response = try client.performExpectingSuccess(request)
            let failures = try client.decode(request, response, S3Responses.DeleteResult.parse).failures
            if !failures.isEmpty {
                throw S3Error("DeleteObjects", bucket: bucket, key: nil,
                              reason: .notDeleted(keys: failures.prefix(3).map(\.key), code: failures[0].code, count: failures.count),
                              attempts: response.attempts)
            }
        }
    }

    /// ListMultipartUploads of the prefix, then AbortMultipartUpload of each upload of the key
    /// itself or of keys below it. Abort is safe to repeat: an upload already gone answers 404
    /// NoSuchUpload, which counts as done.
    public func discardIncompleteWrites(prefix: ObjectKey) throws {
        try eachIncompleteWrite(prefix: prefix) { upload in
            let abort = S3Request(operation: "AbortMultipartUpload", method: "DELETE", key: upload.key,
                                  query: [("uploadId", upload.uploadID)])
            let answer = try client.perform(abort)
            let gone = answer.status == 404 && S3Responses.ErrorDocument.parse(answer.body)?.code == "NoSuchUpload"
            guard (200...299).contains(answer.status) || gone else { throw client.failure(abort, answer) }
            return true
        }
    }

    public func hasIncompleteWrites(prefix: ObjectKey) throws -> Bool {
        var found = false
        try eachIncompleteWrite(prefix: prefix) { _ in
            found = true
            return false
        }
        return found
    }

    /// Calls `body` with each multipart upload of the key `prefix` or of keys below it, while it
    /// returns true.
    private func eachIncompleteWrite(prefix: ObjectKey, _ body: ((key: String, uploadID: String)) throws -> Bool) throws {
        let base = s3Key(prefix)
        var marker: (key: String, uploadID: String)?
        repeat {
            var query = [(name: "uploads", value: ""), (name: "prefix", value: base), (name: "max-uploads", value: "\(Self.pageSize)")]
            if let marker { query += [("key-marker", marker.key), ("upload-id-marker", marker.uploadID)] }
            let request = S3Request(operation: "ListMultipartUploads", method: "GET", key: nil, query: query)
            let response = try client.performExpectingSuccess(request)
            let page = try client.decode(request, response, S3Responses.ListUploadsPage.parse)
            for upload in page.uploads where upload.key == base || upload.key.hasPrefix(base + "/") {
                guard try body((upload.key, upload.uploadID)) else { return }
            }
            marker = page.next
        } while marker != nil
    }

    // MARK: Versions

    public func versions(prefix: ObjectKey) throws -> [ObjectVersion] {
        try versionEntries(prefix: prefix).compactMap { entry in
            objectKey(entry.key).map {
                ObjectVersion(key: $0, versionID: entry.versionID == "null" ? nil : entry.versionID,
                              isDeleteMarker: entry.isDeleteMarker, size: entry.size)
            }
        }
    }

    /// DeleteObject with the version id, which removes that version or delete marker for good
    /// (no new marker). A version without an id is S3's `null` version, the one an unversioned
    /// write made, so it is deleted as `versionId=null`. Safe to repeat.
    public func delete(_ version: ObjectVersion) throws {
        let request = S3Request(operation: "DeleteObject", method: "DELETE", key: s3Key(version.key),
                                query: [("versionId", version.versionID ?? "null")])
        let response = try client.perform(request)
        let code = response.status == 404 ? S3Responses.ErrorDocument.parse(response.body)?.code : nil
        let gone = response.status == 404 && (code == nil || code == "NoSuchKey" || code == "NoSuchVersion")
        guard (200...299).contains(response.status) || gone else { throw client.failure(request, response) }
    }

    /// Every version and delete marker of the key itself and of keys below it, in S3's order.
    func versionEntries(prefix: ObjectKey) throws -> [S3Responses.VersionEntry] {
        let base = s3Key(prefix)
        let exact = try listVersions(prefix: base, delimiter: "/").filter { $0.key == base }
        return exact + (try listVersions(prefix: base + "/"))
    }

    // MARK: Paging

    /// ListObjectsV2 of `prefix`, every page.
    func listObjects(prefix: String, delimiter: String? = nil) throws -> (objects: [S3Responses.ObjectEntry], commonPrefixes: [String]) {
        var objects: [S3Responses.ObjectEntry] = []
        var prefixes: [String] = []
        var token: String?
        repeat {
            var query = [(name: "list-type", value: "2"), (name: "prefix", value: prefix), (name: "max-keys", value: "\(Self.pageSize)")]
            if let delimiter { query.append(("delimiter", delimiter)) }
            if let token { query.append(("continuation-token", token)) }
            let request = S3Request(operation: "ListObjectsV2", method: "GET", key: nil, query: query)
            let response = try client.performExpectingSuccess(request)
            let page = try client.decode(request, response, S3Responses.ListObjectsPage.parse)
            objects += page.objects
            prefixes += page.commonPrefixes
            if let next = page.continuationToken, next == token {
                throw S3Error("ListObjectsV2", bucket: bucket, key: prefix,
                              reason: .malformedResponse("the continuation token did not advance"), attempts: response.attempts)
            }
            token = page.continuationToken
        } while token != nil
        return (objects, prefixes)
    }

    /// ListObjectVersions of `prefix`, every page; with a delimiter, the versions of keys
    /// with no delimiter after the prefix.
    func listVersions(prefix: String, delimiter: String? = nil) throws -> [S3Responses.VersionEntry] {
        var entries: [S3Responses.VersionEntry] = []
        var marker: (key: String, versionID: String)?
        repeat {
            var query = [(name: "versions", value: ""), (name: "prefix", value: prefix), (name: "max-keys", value: "\(Self.pageSize)")]
            if let delimiter { query.append(("delimiter", delimiter)) }
            if let marker {
                query.append(("key-marker", marker.key))
                if !marker.versionID.isEmpty { query.append(("version-id-marker", marker.versionID)) }
            }
            let request = S3Request(operation: "ListObjectVersions", method: "GET", key: nil, query: query)
            let response = try client.performExpectingSuccess(request)
            let page = try client.decode(request, response, S3Responses.ListVersionsPage.parse)
            entries += page.entries
            if let next = page.next, next.key == marker?.key, next.versionID == marker?.versionID {
                throw S3Error("ListObjectVersions", bucket: bucket, key: prefix,
                              reason: .malformedResponse("the key marker did not advance"), attempts: response.attempts)
            }
            marker = page.next
        } while marker != nil
        return entries
    }
}
