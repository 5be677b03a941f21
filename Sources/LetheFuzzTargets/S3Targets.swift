import Foundation
import LetheS3

extension FuzzTargets {
    static let s3Targets: [FuzzTarget] = [
        FuzzTarget("s3-xml", "an S3 answer: every S3Responses parser (ListObjectsV2, ListObjectVersions, ListMultipartUploads, DeleteObjects, uploads, versioning, Object Lock, errors)") { input in
            let data = Data(input)
            try anyOf([
                { _ = try accepted(S3Responses.ErrorDocument.parse(data), by: "S3Responses.ErrorDocument") },
                { _ = try S3Responses.ListObjectsPage.parse(data) },
                { _ = try S3Responses.ListVersionsPage.parse(data) },
                { _ = try S3Responses.ListUploadsPage.parse(data) },
                { _ = try S3Responses.DeleteResult.parse(data) },
                { _ = try S3Responses.uploadID(data) },
                { _ = try S3Responses.completedETag(data) },
                { _ = try S3Responses.versioning(data) },
                { _ = try S3Responses.ObjectLock.parse(data) },
                { _ = try S3Responses.retention(data) },
                { _ = try S3Responses.legalHoldIsOn(data) },
            ])
        },
        FuzzTarget("s3-credentials", "an AWS shared-credentials file: CredentialsFile.parse, profiles default and lethe") { input in
            try anyOf(["default", "lethe"].map { profile in
                { _ = try input.withUnsafeBytes { try CredentialsFile.parse($0, path: "credentials", profile: profile) } }
            })
        },
    ]
}
