import Foundation
import LetheStore

/// The S3 XML answers S3Store reads, each parsed from an `XMLTree` with every element it relies
/// on checked: a missing or malformed one is an `XMLRefused`, never a default value.
package enum S3Responses {
    /// `<Error><Code>…</Code><Message>…</Message></Error>`.
    package struct ErrorDocument: Equatable, Sendable {
        let code: String
        let message: String

        /// The error document in `data`, or nil if `data` is not one (an empty body, HTML
        /// from a proxy, another document).
        package static func parse(_ data: Data) -> ErrorDocument? {
            guard let root = try? XMLTree.parse(data), root.name == "Error", let code = root.text("Code")?.trimmed, !code.isEmpty else {
                return nil
            }
            return ErrorDocument(code: code, message: S3Error.oneLine(root.text("Message") ?? ""))
        }
    }

    package struct ObjectEntry: Equatable, Sendable {
        let key: String
        let size: Int
    }

    /// ListObjectsV2: a page of objects and (with a delimiter) common prefixes.
    package struct ListObjectsPage: Equatable, Sendable {
        let objects: [ObjectEntry]
        let commonPrefixes: [String]
        /// Where the next page starts; nil on the last page.
        let continuationToken: String?

        package static func parse(_ data: Data) throws -> ListObjectsPage {
            let root = try document(data, "ListBucketResult")
            let objects = try root.children("Contents").map { entry in
                ObjectEntry(key: try entry.required("Key"), size: try entry.integer("Size"))
            }
            let prefixes = try root.children("CommonPrefixes").map { try $0.required("Prefix") }
            return ListObjectsPage(objects: objects, commonPrefixes: prefixes,
                                   continuationToken: try root.nextMarker(flag: "IsTruncated", "NextContinuationToken"))
        }
    }

    package struct VersionEntry: Equatable, Sendable {
        let key: String
        /// S3's version id; `null` for the version an unversioned write made.
        let versionID: String
        let isDeleteMarker: Bool
        let size: Int
        let lastModified: Date
    }

    /// ListObjectVersions: versions and delete markers in key order, then newest first.
    package struct ListVersionsPage: Sendable {
        let entries: [VersionEntry]
        /// `(key-marker, version-id-marker)` of the next page; nil on the last page.
        let next: (key: String, versionID: String)?

        package static func parse(_ data: Data) throws -> ListVersionsPage {
            let root = try document(data, "ListVersionsResult")
            var entries: [VersionEntry] = []
            // Versions and delete markers interleave in S3's order; keep it.
            for node in root.children where node.name == "Version" || node.name == "DeleteMarker" {
                let marker = node.name == "DeleteMarker"
                entries.append(VersionEntry(
                    key: try node.required("Key"), versionID: try node.required("VersionId").trimmed,
                    isDeleteMarker: marker, size: marker ? 0 : try node.integer("Size"),
                    lastModified: try node.date("LastModified")))
            }
            guard try root.flag("IsTruncated") else { return ListVersionsPage(entries: entries, next: nil) }
            guard let key = root.text("NextKeyMarker"), !key.isEmpty else {
                throw XMLRefused(problem: "a truncated ListVersionsResult has no NextKeyMarker")
            }
            return ListVersionsPage(entries: entries, next: (key, root.text("NextVersionIdMarker")?.trimmed ?? ""))
        }
    }

    /// ListMultipartUploads: uploads started and neither completed nor aborted.
    package struct ListUploadsPage: Sendable {
        let uploads: [(key: String, uploadID: String)]
        let next: (key: String, uploadID: String)?

        package static func parse(_ data: Data) throws -> ListUploadsPage {
            let root = try document(data, "ListMultipartUploadsResult")
            let uploads = try root.children("Upload").map { (key: try $0.required("Key"), uploadID: try $0.required("UploadId").trimmed) }
            guard try root.flag("IsTruncated") else { return ListUploadsPage(uploads: uploads, next: nil) }
            guard let key = root.text("NextKeyMarker"), !key.isEmpty else {
                throw XMLRefused(problem: "a truncated ListMultipartUploadsResult has no NextKeyMarker")
            }
            return ListUploadsPage(uploads: uploads, next: (key, root.text("NextUploadIdMarker")?.trimmed ?? ""))
        }
    }

    /// DeleteObjects: with `<Quiet>`, only the keys that failed are listed.
    package struct DeleteResult: Sendable {
        let failures: [(key: String, code: String)]

        package static func parse(_ data: Data) throws -> DeleteResult {
            let root = try document(data, "DeleteResult")
            return DeleteResult(failures: try root.children("Error").map {
                (key: try $0.required("Key"), code: $0.text("Code")?.trimmed ?? "unknown")
            })
        }
    }

    /// CreateMultipartUpload.
    package static func uploadID(_ data: Data) throws -> String {
        let id = try document(data, "InitiateMultipartUploadResult").required("UploadId").trimmed
        guard !id.isEmpty else { throw XMLRefused(problem: "InitiateMultipartUploadResult has an empty UploadId") }
        return id
    }

    /// CompleteMultipartUpload answers 200 and then either this or an `<Error>` document (the
    /// failure can happen after the status line went out); the caller checks for the error.
    package static func completedETag(_ data: Data) throws -> String {
        try document(data, "CompleteMultipartUploadResult").required("ETag").trimmed
    }

    /// GetBucketVersioning: no `<Status>` means versioning was never enabled.
    package static func versioning(_ data: Data) throws -> Versioning {
        switch try document(data, "VersioningConfiguration").text("Status")?.trimmed {
        case nil, "": return .unversioned
        case "Enabled": return .enabled
        case "Suspended": return .suspended
        case let other?: throw XMLRefused(problem: "unknown versioning status \"\(S3Error.oneLine(other))\"")
        }
    }

    /// GetObjectLockConfiguration.
    package struct ObjectLock: Equatable, Sendable {
        let enabled: Bool
        /// The bucket's default retention, which every new version gets.
        let defaultRetention: DefaultRetention?

        struct DefaultRetention: Equatable, Sendable {
            let mode: String
            let days: Int?
            let years: Int?
        }

        package static func parse(_ data: Data) throws -> ObjectLock {
            let root = try document(data, "ObjectLockConfiguration")
            let enabled = root.text("ObjectLockEnabled")?.trimmed == "Enabled"
            guard let rule = root.child("Rule")?.child("DefaultRetention") else { return ObjectLock(enabled: enabled, defaultRetention: nil) }
            let days = try rule.optionalInteger("Days")
            let years = try rule.optionalInteger("Years")
            guard days != nil || years != nil else { throw XMLRefused(problem: "a DefaultRetention has neither Days nor Years") }
            return ObjectLock(enabled: enabled, defaultRetention: DefaultRetention(
                mode: try rule.required("Mode").trimmed, days: days, years: years))
        }
    }

    /// GetObjectRetention: the mode and the date until which the version is kept.
    package static func retention(_ data: Data) throws -> (mode: String, until: Date) {
        let root = try document(data, "Retention")
        return (try root.required("Mode").trimmed, try root.date("RetainUntilDate"))
    }

    /// GetObjectLegalHold: whether a legal hold is on.
    package static func legalHoldIsOn(_ data: Data) throws -> Bool {
        try document(data, "LegalHold").required("Status").trimmed == "ON"
    }

    private static func document(_ data: Data, _ rootName: String) throws -> XMLNode {
        let root = try XMLTree.parse(data)
        guard root.name == rootName else {
            throw XMLRefused(problem: "expected <\(rootName)>, got <\(S3Error.oneLine(root.name))>")
        }
        return root
    }
}

extension XMLNode {
    func required(_ name: String) throws -> String {
        guard let value = text(name) else { throw XMLRefused(problem: "<\(self.name)> has no <\(name)>") }
        return value
    }

    func integer(_ name: String) throws -> Int {
        guard let value = try optionalInteger(name) else { throw XMLRefused(problem: "<\(self.name)> has no <\(name)>") }
        return value
    }

    func optionalInteger(_ name: String) throws -> Int? {
        guard let text = text(name)?.trimmed else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw XMLRefused(problem: "<\(name)> of <\(self.name)> is not a count: \"\(S3Error.oneLine(text))\"")
        }
        return value
    }

    func date(_ name: String) throws -> Date {
        let text = try required(name).trimmed
        guard let date = Timestamp.parse(text) else {
            throw XMLRefused(problem: "<\(name)> of <\(self.name)> is not an ISO 8601 time: \"\(S3Error.oneLine(text))\"")
        }
        return date
    }

    func flag(_ name: String) throws -> Bool {
        switch text(name)?.trimmed {
        case nil, "false": return false
        case "true": return true
        case let other?: throw XMLRefused(problem: "<\(name)> is neither true nor false: \"\(S3Error.oneLine(other))\"")
        }
    }

    /// The marker of the next page when `flag` says the listing is truncated, else nil.
    func nextMarker(flag name: String, _ marker: String) throws -> String? {
        guard try flag(name) else { return nil }
        guard let value = text(marker), !value.isEmpty else {
            throw XMLRefused(problem: "a truncated <\(self.name)> has no <\(marker)>")
        }
        return value
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
