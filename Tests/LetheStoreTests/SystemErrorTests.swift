import Glibc
import LetheStore
import Testing

@Suite struct SystemErrorTests {
    @Test func diskFullErrorsSayDiskFull() {
        let error = SystemError("write", "/srv/x", code: ENOSPC)
        #expect(error.isDiskFull)
        #expect(error.description.contains("(disk full)"))
        #expect(error.description.contains("write"))
        #expect(error.description.contains("/srv/x"))
    }

    @Test func quotaExceededIsDiskFullToo() {
        let error = SystemError("write", "/srv/x", code: EDQUOT)
        #expect(error.isDiskFull && error.description.contains("(disk full)"))
    }

    @Test func otherErrorsDoNotClaimADiskFull() {
        let error = SystemError("open", "/srv/y", code: ENOENT)
        #expect(!error.isDiskFull && error.isNotFound)
        #expect(!error.description.contains("disk full"))
        #expect(error.description == "cannot open /srv/y: \(String(cString: strerror(ENOENT)))")
    }

    @Test func permissionErrorsAreRecognised() {
        #expect(SystemError("open", "/x", code: EACCES).isPermissionDenied)
        #expect(SystemError("open", "/x", code: EPERM).isPermissionDenied)
        #expect(!SystemError("open", "/x", code: EIO).isPermissionDenied)
    }
}
