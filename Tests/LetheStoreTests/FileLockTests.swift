import Glibc
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

    @Test func aLinkInPlaceOfTheLockFileIsNotFollowed() throws {
        let target = "\(directory.path)/elsewhere"
        #expect(symlink(target, path) == 0)
        do {
            _ = try FileLock.acquire(path)
            Issue.record("the lock was taken through a symbolic link")
        } catch let error as SystemError {
            #expect(error.code == ELOOP && error.path == path)
        }
        #expect(!FileSystem.exists(target), "nothing was created at the link's target")
    }

    @Test func lockInAKeyDirectoryExcludesAnotherHolder() throws {
        let keys = try KeyDirectory("\(directory.path)/keys", opening: .creatingIfMissing)
        let first = try FileLock.acquire("keystore.lock", in: keys)
        #expect(try FileLock.tryAcquire("\(directory.path)/keys/keystore.lock") == nil)
        withExtendedLifetime(first) {}
    }
}
