// Linux calls that Swift cannot import directly (variadic functions, function-like macros,
// GNU extensions). Each wrapper is one call, with nothing added.
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <unistd.h>

// prctl(2) is variadic; this is PR_SET_DUMPABLE 0: no core dumps, no ptrace by the same user.
static inline int clinux_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

// syncfs(2) is a GNU extension, hidden from Swift's Glibc module: flushes the whole file
// system that holds `fd` (and, since Linux 5.8, reports its write-back errors).
static inline int clinux_syncfs(int fd) { return syncfs(fd); }

// statfs(2) from <sys/vfs.h>, which Swift's Glibc module does not bring: the file system's
// magic number (f_type) for `path` into `type`.
static inline int clinux_filesystem_type(const char *path, long *type) {
    struct statfs info;
    int result = statfs(path, &info);
    if (result == 0) *type = (long)info.f_type;
    return result;
}
