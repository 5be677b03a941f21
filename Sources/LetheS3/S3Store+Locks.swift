import Foundation
import LetheStore

/// Versioning and Object Lock: what destruction must know before it deletes every version.
extension S3Store {
    /// GetBucketVersioning.
    public func versioning() throws -> Versioning {
        let request = S3Request(operation: "GetBucketVersioning", method: "GET", key: nil, query: [("versioning", "")])
        let response = try client.performExpectingSuccess(request)
        return try client.decode(request, response, S3Responses.versioning)
    }

    /// The versions under `prefix` that Object Lock keeps: those with a retention date still
    /// ahead (`GetObjectRetention`), or with a legal hold on (`GetObjectLegalHold`), or, having
    /// no retention of their own, still inside the bucket's default retention counted from the
    /// version's last modification. A bucket without Object Lock has none, and no version is
    /// asked about. Delete markers cannot be locked. "Now" is the store's clock.
    public func holds(prefix: ObjectKey) throws -> [RetentionHold] {
        guard let lock = try objectLock(), lock.enabled else { return [] }
        let now = clock.now()
        var holds: [RetentionHold] = []
        for entry in try versionEntries(prefix: prefix) where !entry.isDeleteMarker {
            guard let key = objectKey(entry.key) else { continue }
            let version = ObjectVersion(key: key, versionID: entry.versionID == "null" ? nil : entry.versionID,
                                        isDeleteMarker: false, size: entry.size)
            let retention = try retention(entry)
            if let retention, retention.until > now {
                holds.append(RetentionHold(version: version, reason: "\(retention.mode) retention until \(Timestamp.format(retention.until))"))
            } else if retention == nil, let rule = lock.defaultRetention,
                      let until = Self.defaultRetentionEnd(rule, from: entry.lastModified), until > now {
                let period = rule.days.map { "\($0) days" } ?? "\(rule.years ?? 0) years"
                holds.append(RetentionHold(version: version, reason: "bucket default retention \(period) (\(rule.mode)) until \(Timestamp.format(until))"))
            }
            if try legalHold(entry) {
                holds.append(RetentionHold(version: version, reason: "legal hold"))
            }
        }
        return holds
    }

    /// GetObjectLockConfiguration; nil when the bucket has none (404
    /// `ObjectLockConfigurationNotFoundError`).
    func objectLock() throws -> S3Responses.ObjectLock? {
        let request = S3Request(operation: "GetObjectLockConfiguration", method: "GET", key: nil, query: [("object-lock", "")])
        let response = try client.perform(request)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw client.failure(request, response) }
        return try client.decode(request, response, S3Responses.ObjectLock.parse)
    }

    /// GetObjectRetention of one version; nil when it has none (404).
    func retention(_ entry: S3Responses.VersionEntry) throws -> (mode: String, until: Date)? {
        let request = S3Request(operation: "GetObjectRetention", method: "GET", key: entry.key,
                                query: [("retention", ""), ("versionId", entry.versionID)])
        let response = try client.perform(request)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw client.failure(request, response) }
        return try client.decode(request, response, S3Responses.retention)
    }

    /// GetObjectLegalHold of one version; false when it has none (404).
    func legalHold(_ entry: S3Responses.VersionEntry) throws -> Bool {
        let request = S3Request(operation: "GetObjectLegalHold", method: "GET", key: entry.key,
                                query: [("legal-hold", ""), ("versionId", entry.versionID)])
        let response = try client.perform(request)
        if response.status == 404 { return false }
        guard response.status == 200 else { throw client.failure(request, response) }
        return try client.decode(request, response, S3Responses.legalHoldIsOn)
    }

    static func defaultRetentionEnd(_ rule: S3Responses.ObjectLock.DefaultRetention, from start: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        if let days = rule.days { return calendar.date(byAdding: .day, value: days, to: start) }
        if let years = rule.years { return calendar.date(byAdding: .year, value: years, to: start) }
        return nil
    }
}
