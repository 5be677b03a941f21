import LetheStore
import Testing

/// flock locks belong to an open file description, so two `FileLock`s opened separately in
/// one process exclude each other as two processes would.
@Suite struct FileLockTests {
    let directory = TestDirectory()
    var path: String { "\(directory.path)/run.lock" }

    @Test func tryAcquireReturnsNilWhileAnotherHolderHasTheLock() throws {
        let first = try #require(try FileLock.tryAcquire(path))
        #expect(try FileLock.tryAcquire(path) == nil)
        #expect(try FileLock.tryAcquire(path) == nil)
        withExtendedLifetime(first) {}
    }

    @Test func tryAcquireSucceedsAfterTheHolderReleases() throws {
        var first: FileLock? = try FileLock.acquire(path)
        #expect(first != nil)
        #expect(try FileLock.tryAcquire(path) == nil)
        first = nil
        let second = try FileLock.tryAcquire(path)
        #expect(second != nil)
    }

    @Test func theLockFileIsCreatedOwnerOnly() throws {
        let lock = try FileLock.acquire(path)
        #expect(permissions(path) == 0o600)
        withExtendedLifetime(lock) {}
    }
}
