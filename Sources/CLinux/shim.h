// Linux calls that Swift cannot import directly (variadic functions, function-like macros).
// Each wrapper is one call, with nothing added.
#include <sys/prctl.h>

// prctl(2) is variadic; this is PR_SET_DUMPABLE 0: no core dumps, no ptrace by the same user.
static inline int clinux_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
