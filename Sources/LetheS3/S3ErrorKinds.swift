import LetheStore

/// The exit code each S3 failure means. A bucket, credential or permission the configuration
/// names wrongly is the operator's to fix (usage); anything else S3 refuses or fails to answer
/// is an operation that failed.
extension S3Error: KindedError {
    public var kind: ErrorKind {
        switch code {
        case "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthorizationHeaderMalformed":
            return .usage
        default:
            return .failed
        }
    }
}

extension S3ConfigurationError: KindedError {
    public var kind: ErrorKind { .usage }
}

extension XMLRefused: KindedError {
    package var kind: ErrorKind { .failed }
}

extension TransportFailure: KindedError {
    var kind: ErrorKind { .failed }
}
