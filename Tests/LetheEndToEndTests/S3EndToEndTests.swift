import Foundation
import Testing

/// Issue 10 end to end: the real `lethe` binary with its store in a bucket of the SeaweedFS
/// that Scripts/test.sh starts, checked where it matters with boto3, an S3 client Lethe did not
/// write (Tests/Interop/s3/s3tool.py).
@Suite struct S3EndToEndTests {
    static let tool = "\(E2EHome.repository)/Tests/Interop/s3/s3tool.py"

    /// The service's variables, or a failure that says how to get them: never a silent skip.
    static func service() throws -> [String: String] {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["LETHE_TEST_S3_ENDPOINT"], let id = environment["LETHE_TEST_S3_ACCESS_KEY_ID"],
              let secret = environment["LETHE_TEST_S3_SECRET_ACCESS_KEY"] else {
            throw E2EError("no S3 service: run the tests through Scripts/test.sh, or `Scripts/seaweedfs.sh start && eval \"$(Scripts/seaweedfs.sh env)\"`")
        }
        return ["endpoint": endpoint, "AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret]
    }

    static func s3tool(_ arguments: [String]) throws -> String {
        let run = E2EHome.run("/usr/bin/env", ["python3", tool] + arguments)
        guard run.status == 0 else { throw E2EError("s3tool \(arguments.joined(separator: " ")): \(run.output)") }
        return run.stdout
    }

    /// A home whose store is a fresh bucket (versioned, or with Object Lock, as asked).
    func home(_ flags: [String] = []) throws -> (E2EHome, bucket: String, credentials: [String: String]) {
        let service = try Self.service()
        let bucket = "lethe-e2e-" + UUID().uuidString.lowercased().prefix(13)
        _ = try Self.s3tool(["make-bucket", String(bucket)] + flags)
        let home = try E2EHome(initialize: false)
        let credentials = ["AWS_ACCESS_KEY_ID": service["AWS_ACCESS_KEY_ID"]!, "AWS_SECRET_ACCESS_KEY": service["AWS_SECRET_ACCESS_KEY"]!]
        let initialized = home.lethe(
            ["init", "--keys", home.keys, "--store", "s3://\(bucket)/lethe", "--s3-endpoint", service["endpoint"]!], environment: credentials)
        guard initialized.status == 0 else { throw E2EError("init on S3: \(initialized.output)") }
        return (home, String(bucket), credentials)
    }

    @Test func theMainJobRunsOnABucketAndNoCredentialIsWrittenDown() throws {
        let (home, bucket, credentials) = try home()
        let data = try home.addTenantOnS3("acme", credentials)
        #expect(home.lethe(["backup", "acme"], environment: credentials).status == 0)
        #expect(home.lethe(["restore", "acme", "--target", "\(home.root)/r"], environment: credentials).status == 0)
        #expect(E2EHome.run("/usr/bin/diff", ["-r", "--no-dereference", data, "\(home.root)/r"]).status == 0)
        #expect(home.lethe(["verify", "--read-data"], environment: credentials).status == 0)
        #expect(home.lethe(["audit", "verify"], environment: credentials).status == 0)
        let config = home.lethe(["config", "show"], environment: credentials).stdout
        #expect(config.contains("\"bucket\" : \"\(bucket)\""))
        let secret = credentials["AWS_SECRET_ACCESS_KEY"]!
        let everything = E2EHome.run("/bin/grep", ["-rl", secret, home.home, home.keys])
        #expect(everything.stdout.isEmpty, "the secret key appears in \(everything.stdout)")
        // Without credentials, one line that says so, naming no secret.
        let none = home.lethe(["backup", "acme"], environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        #expect(none.status != 0 && none.stderr.split(separator: "\n").count == 1 && !none.stderr.contains(secret), "\(none.stderr)")
    }

    @Test func aDestructionOnAVersionedBucketLeavesNoVersionAndItsReportVerifiesWithOpenssl() throws {
        let (home, bucket, credentials) = try home(["--versioned"])
        _ = try home.addTenantOnS3("acme", credentials)
        for day in 0..<2 { #expect(home.lethe(["backup", "acme"], environment: credentials.merging(["LETHE_NOW": "2026-03-0\(day + 1)T02:00:00Z"]) { $1 }).status == 0) }
        #expect(home.lethe(["tenant", "offboard", "acme", "--window-days", "0"], environment: credentials).status == 0)
        let before = try Self.s3tool(["versions", bucket, "lethe/tenants/acme/"]).split(separator: "\n")
        #expect(before.count > 4, "overwritten records and locks left old versions: \(before.count)")
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")], graceHours: 0, environment: credentials)
        let made = home.lethe(["destroy", "request", "acme", "--reason", "retention-expired", "--json"], environment: credentials)
        let id = try #require((try made.json() as? [String: Any])?["id"] as? String, "\(made.output)")
        for who in ["dana", "carl"] {
            #expect(home.lethe(["destroy", "approve", id, "--key", "\(home.root)/\(who).pem"], environment: credentials).status == 0)
        }
        let executed = home.lethe(["destroy", "execute", id], environment: credentials)
        #expect(executed.status == 0, "\(executed.output)")
        // boto3's ListObjectVersions under the tenant's prefix: empty.
        #expect(try Self.s3tool(["versions", bucket, "lethe/tenants/acme/"]).isEmpty)
        let report = "rpt-" + id.dropFirst(3)
        let exported = home.lethe(["report", "export", report, "--output", "\(home.root)/evidence"], environment: credentials)
        #expect(exported.status == 0, "\(exported.output)")
        let openssl = E2EHome.run("/usr/bin/openssl", [
            "pkeyutl", "-verify", "-pubin", "-inkey", "\(home.keys)/signing-key.pub.pem", "-rawin",
            "-in", "\(home.root)/evidence/\(report).json", "-sigfile", "\(home.root)/evidence/\(report).sig",
        ])
        #expect(openssl.stdout.contains("Signature Verified Successfully"), "\(openssl.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(home.root)/evidence/\(report).json"))) as? [String: Any])
        let storage = try #require(json["storage"] as? [String: Any])
        #expect(storage["versioning"] as? String == "enabled")
        #expect((storage["versionsDeleted"] as? Int ?? 0) >= before.count - 1 && (storage["location"] as? String)?.contains(bucket) == true, "\(storage)")
    }

    @Test func objectLockRetentionMakesTheRequestRefuseNamingIt() throws {
        let (home, bucket, credentials) = try home(["--object-lock"])
        _ = try home.addTenantOnS3("acme", credentials)
        #expect(home.lethe(["backup", "acme"], environment: credentials).status == 0)
        try home.registerAuthorizers([("dana", "dpo"), ("carl", "officer")], environment: credentials)
        _ = try Self.s3tool(["lock", bucket, "lethe/tenants/acme/snapshots/", "30"])
        let refused = home.lethe(["destroy", "request", "acme", "--reason", "client-request"], environment: credentials)
        #expect(refused.status == 4 && refused.stderr.contains("retention"), "\(refused.output)")
        #expect(home.lethe(["destroy", "list", "--json"], environment: credentials).stdout.contains("\"id\"") == false, "no request was made")
    }
}

extension E2EHome {
    /// `addTenant` for a home whose store needs credentials.
    func addTenantOnS3(_ name: String, _ credentials: [String: String]) throws -> String {
        let directory = "\(data)/\(name)"
        try SampleTree.make(at: directory, seed: 3, bigFile: 6 << 20)
        let run = lethe(["tenant", "add", name, "--source", "dir:\(directory)"], environment: credentials)
        guard run.status == 0 else { throw E2EError("tenant add \(name): \(run.output)") }
        return directory
    }
}
