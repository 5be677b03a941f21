import Glibc
import LetheCrypto
import LetheStore

/// Reads S3 credentials from an AWS shared-credentials file:
///
///     [default]
///     aws_access_key_id = AKIA…
///     aws_secret_access_key = …
///     aws_session_token = …        (optional)
///
/// The file is opened without following a symbolic link and checked on its descriptor, as
/// `KeyDirectory` checks key files: a regular file, owned by the effective user, with no group
/// or other permission bits. Anything else is refused with a `KeyFileError` naming the path,
/// before a byte is read. The contents go straight into wiped memory; the secret is copied
/// from there into its own `SecureBytes`. Errors name the path and profile, never a value.
package enum CredentialsFile {
    /// Larger is not a credentials file; refusing it bounds what a wrong path can make us read.
    static let sizeLimit = 64 * 1024

    static func read(_ path: String, profile: String = "default") throws -> S3Credentials {
        // O_NONBLOCK: a FIFO put in place of the file must not hang the open.
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { throw KeyFileError.symbolicLink(path: path) }
            throw SystemError("open", path)
        }
        let file = try OwnedFile(adopting: fd, path: path)
        let info = try file.status()
        guard info.st_mode & S_IFMT == S_IFREG else { throw KeyFileError.notRegularFile(path: path) }
        guard info.st_uid == geteuid() else { throw KeyFileError.wrongOwner(path: path, owner: info.st_uid, user: geteuid()) }
        guard info.st_mode & 0o077 == 0 else { throw KeyFileError.insecureFileMode(path: path, mode: info.st_mode & 0o777) }
        let size = Int(info.st_size)
        guard size <= sizeLimit else { throw SystemError("read (larger than \(sizeLimit) bytes)", path, code: EFBIG) }
        let contents = try SecureBytes(capacity: size) { try file.readFully(into: $0) }
        return try contents.withUnsafeBytes { try parse($0, path: path, profile: profile) }
    }

    /// The credentials of `[profile]` in `text`. Only the secret's bytes are copied, and only
    /// into `SecureBytes`.
    package static func parse(_ text: UnsafeRawBufferPointer, path: String, profile: String) throws -> S3Credentials {
        var inProfile = false
        var foundProfile = false
        var accessKeyID: String?
        var secret: SecureBytes?
        var token: String?
        var lineStart = text.startIndex
        while lineStart < text.endIndex {
            let lineEnd = text[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? text.endIndex
            let line = trim(text[lineStart..<lineEnd])
            lineStart = lineEnd + 1
            guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";") else { continue }
            if first == UInt8(ascii: "[") {
                guard line.last == UInt8(ascii: "]") else {
                    throw S3ConfigurationError.credentialsFile(path: path, problem: "a section header is not closed with ]")
                }
                let name = String(decoding: trim(line.dropFirst().dropLast()), as: UTF8.self)
                inProfile = name == profile
                foundProfile = foundProfile || inProfile
                continue
            }
            guard inProfile else { continue }
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else {
                throw S3ConfigurationError.credentialsFile(path: path, problem: "a line in [\(profile)] has no =")
            }
            let name = String(decoding: trim(line[..<equals]), as: UTF8.self).lowercased()
            let value = trim(line[(equals + 1)...])
            switch name {
            case "aws_access_key_id": accessKeyID = String(decoding: value, as: UTF8.self)
            case "aws_secret_access_key": secret = SecureBytes(copying: UnsafeRawBufferPointer(rebasing: value))
            case "aws_session_token": token = String(decoding: value, as: UTF8.self)
            default: continue
            }
        }
        guard foundProfile else { throw S3ConfigurationError.credentialsFile(path: path, problem: "it has no profile [\(profile)]") }
        guard let accessKeyID, let secret else {
            throw S3ConfigurationError.credentialsFile(
                path: path, problem: "profile [\(profile)] lacks aws_access_key_id or aws_secret_access_key")
        }
        guard secret.withUnsafeBytes({ $0.allSatisfy(S3Credentials.isTokenByte) }) else {
            throw S3ConfigurationError.credentialsFile(path: path, problem: "the secret access key of [\(profile)] has unexpected characters")
        }
        return try S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: token)
    }

    private static func trim(_ bytes: UnsafeRawBufferPointer.SubSequence) -> UnsafeRawBufferPointer.SubSequence {
        func isSpace(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }), let end = bytes.lastIndex(where: { !isSpace($0) }) else {
            return bytes[bytes.startIndex..<bytes.startIndex]
        }
        return bytes[start...end]
    }
}
