import Foundation
import Glibc
@testable import LetheS3
import LetheStore
import Testing

/// A process killed with SIGKILL in the middle of a multipart upload: nothing becomes visible,
/// the upload stays open holding its parts, and `discardIncompleteWrites` removes it.
///
/// The uploader is this test binary run again with only this test selected and
/// `LETHE_S3_TEST_UPLOADER` set: the test then plays the uploader, which starts a writer, sends
/// a first part, says so in a file and waits to be killed.
@Suite struct CrashTests {
    static let uploaderVariable = "LETHE_S3_TEST_UPLOADER"

    @Test func aProcessKilledMidUploadLeavesNothingVisibleAndDiscardCleansUp() throws {
        if let task = ProcessInfo.processInfo.environment[Self.uploaderVariable] {
            return try upload(task)
        }
        let bucket = try TestS3.sharedBucket()
        let prefix = TestS3.uniqueName("crash")
        let directory = TestDirectory()
        let ready = "\(directory.path)/ready"
        let uploader = Process()
        uploader.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        uploader.arguments = ["--testing-library", "swift-testing", "--filter", "CrashTests"]
        uploader.environment = ProcessInfo.processInfo.environment.merging([Self.uploaderVariable: "\(bucket) \(prefix) \(ready)"]) { $1 }
        uploader.standardOutput = FileHandle.nullDevice
        uploader.standardError = FileHandle.nullDevice
        try uploader.run()
        defer { if uploader.isRunning { kill(uploader.processIdentifier, SIGKILL) } }

        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: ready), uploader.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(FileManager.default.fileExists(atPath: ready), "the uploader sent its first part")
        kill(uploader.processIdentifier, SIGKILL)
        uploader.waitUntilExit()
        #expect(uploader.terminationReason == .uncaughtSignal && uploader.terminationStatus == SIGKILL)

        let store = try TestS3.store(bucket: bucket, prefix: prefix)
        #expect(try store.list(prefix: key("tenants")).isEmpty)
        #expect(try store.size(of: key("tenants/a/pack")) == nil)
        #expect(try TestS3.openUploads(bucket: bucket, prefix: prefix + "/") == ["\(prefix)/tenants/a/pack"])
        try store.discardIncompleteWrites(prefix: key("tenants/a"))
        #expect(try TestS3.openUploads(bucket: bucket, prefix: prefix + "/").isEmpty)
    }

    /// The uploader's side: one part sent, then wait for the signal.
    private func upload(_ task: String) throws {
        let words = task.split(separator: " ").map(String.init)
        let store = try TestS3.store(bucket: words[0], prefix: words[1])
        let writer = try store.writer(for: key("tenants/a/pack"))
        try writer.write(testBytes(S3Configuration.minimumPartSize + 1000, seed: 9))
        guard FileManager.default.createFile(atPath: words[2], contents: Data()) else {
            Issue.record("the uploader could not say it is ready")
            return
        }
        Thread.sleep(forTimeInterval: 120)
        Issue.record("the uploader was not killed")
    }
}
