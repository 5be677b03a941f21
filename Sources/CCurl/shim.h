// The parts of libcurl's easy interface that LetheS3's HTTP transport uses. Nothing outside
// LetheS3 imports this. curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call: these typed wrappers pass each kind of argument as libcurl expects it.
#include <curl/curl.h>

typedef size_t (*lethe_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode lethe_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lethe_curl_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lethe_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lethe_curl_setopt_callback(CURL *handle, CURLoption option, lethe_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lethe_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
