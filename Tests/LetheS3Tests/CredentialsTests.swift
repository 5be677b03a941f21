import Foundation
import Glibc
@testable import LetheS3
import LetheCrypto
import LetheStore
import Testing

/// Credentials: where they come from, which files are refused, and that nothing shows them.
@Suite struct CredentialsTests {
    let directory = TestDirectory()

    private func file(_ text: String, mode: mode_t = 0o600) throws -> String {
        let path = "\(directory.path)/credentials-\(UUID().uuidString)"
        try Array(text.utf8).withUnsafeBytes { bytes in
            let file = try OwnedFile(path: path, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            try file.write(bytes)
        }
        chmod(path, mode)
        return path
    }

    private func secret(of credentials: S3Credentials) -> String {
        credentials.secretAccessKey.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aCredentialsFileGivesTheNamedProfile() throws {
        let path = try file("""
            # comment
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = default/secret+key

            [backup]
            aws_access_key_id=AKIDBACKUP
            aws_secret_access_key=backup-secret
            aws_session_token = FwoGZXIvYXdzEBYaDEXAMPLETOKEN==
            """)
        let first = try CredentialsFile.read(path)
        #expect(first.accessKeyID == "AKIDDEFAULT" && secret(of: first) == "default/secret+key" && first.sessionToken == nil)
        let second = try CredentialsFile.read(path, profile: "backup")
        #expect(second.accessKeyID == "AKIDBACKUP" && secret(of: second) == "backup-secret")
        #expect(second.sessionToken == "FwoGZXIvYXdzEBYaDEXAMPLETOKEN==")
    }

    @Test func aCredentialsFileThatOthersMayReadIsRefused() throws {
        let path = try file("[default]\naws_access_key_id = A\naws_secret_access_key = S\n", mode: 0o644)
        #expect(throws: KeyFileError.insecureFileMode(path: path, mode: 0o644)) { _ = try CredentialsFile.read(path) }
        chmod(path, 0o640)
        #expect(throws: KeyFileError.insecureFileMode(path: path, mode: 0o640)) { _ = try CredentialsFile.read(path) }
    }

    @Test func aSymbolicLinkToACredentialsFileIsRefused() throws {
        let target = try file("[default]\naws_access_key_id = A\naws_secret_access_key = S\n")
        let link = "\(directory.path)/link"
        #expect(symlink(target, link) == 0)
        #expect(throws: KeyFileError.symbolicLink(path: link)) { _ = try CredentialsFile.read(link) }
    }

    @Test func aDirectoryIsNotACredentialsFile() throws {
        #expect(throws: KeyFileError.notRegularFile(path: directory.path)) { _ = try CredentialsFile.read(directory.path) }
    }

    @Test func aMissingProfileOrKeyIsNamedWithoutAnyValue() throws {
        let path = try file("[default]\naws_access_key_id = AKIDONLY\n")
        #expect(throws: S3ConfigurationError.credentialsFile(path: path, problem: "it has no profile [other]")) {
            _ = try CredentialsFile.read(path, profile: "other")
        }
        let error = #expect(throws: S3ConfigurationError.self) { _ = try CredentialsFile.read(path) }
        #expect(error.map { "\($0)" }?.contains("AKIDONLY") == false)
        #expect(error == .credentialsFile(path: path, problem: "profile [default] lacks aws_access_key_id or aws_secret_access_key"))
    }

    @Test func aMissingFileIsASystemError() throws {
        let path = "\(directory.path)/none"
        let error = #expect(throws: SystemError.self) { _ = try CredentialsFile.read(path) }
        #expect(error?.isNotFound == true && error?.path == path)
    }

    @Test func theEnvironmentGivesKeySecretAndToken() throws {
        let credentials = try S3Credentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "TOKEN"])
        #expect(credentials.accessKeyID == "AKIDENV" && secret(of: credentials) == "env-secret" && credentials.sessionToken == "TOKEN")
        #expect(throws: S3ConfigurationError.missingEnvironment("AWS_ACCESS_KEY_ID")) { _ = try S3Credentials.fromEnvironment([:]) }
    }

    @Test func credentialsNeverShowInADescriptionOrMirror() throws {
        let credentials = try S3Credentials(accessKeyID: "AKIDSHOWN", secretAccessKey: secure("very-secret"), sessionToken: "TOKENSHOWN")
        let configuration = S3Configuration(endpoint: URL(string: "http://127.0.0.1:9000")!, region: "us-east-1", bucket: "bucket",
                                            credentials: .explicit(credentials))
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(credentials)", String(reflecting: credentials), "\(configuration)", dumped] {
            #expect(!text.contains("AKIDSHOWN") && !text.contains("very-secret") && !text.contains("TOKENSHOWN"), "\(text)")
        }
    }

    @Test func aKeyIdOrTokenThatCouldBreakAHeaderIsRefused() {
        #expect(throws: S3ConfigurationError.self) { _ = try S3Credentials(accessKeyID: "AKID\r\nX: y", secretAccessKey: secure("s")) }
        #expect(throws: S3ConfigurationError.self) {
            _ = try S3Credentials(accessKeyID: "AKID", secretAccessKey: secure("s"), sessionToken: "a b")
        }
    }
}
