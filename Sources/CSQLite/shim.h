#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro around a function-pointer cast that Swift cannot import.
static inline void (*csqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }

// sqlite3_db_config is variadic, which Swift cannot call: the form taking one int and
// reporting the setting now in force (-1 when the call failed).
static inline int csqlite_db_config_int(sqlite3 *db, int op, int value) {
    int now = -1;
    if (sqlite3_db_config(db, op, value, &now) != SQLITE_OK) return -1;
    return now;
}
