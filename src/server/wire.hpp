#pragma once
// Pieces of the HTTP wire format the server needs, free of Beast and Asio so they are cheap to
// compile and easy to test: request-target decoding, UTF-8 checks, the Date header, SSE framing and
// the checks applied to headers a handler returns.
#include <map>
#include <string>
#include <string_view>

namespace igb::server::wire {

// Splits a request-target (origin-form "/p/a%20th?q=1", or absolute-form "http://host/p?q=1") into
// its percent-decoded path and its decoded query parameters ('+' is a space; the last of repeated
// keys wins; empty keys are dropped). `path` and `query` are cleared first and reuse their storage.
// False when the target is not a valid URI reference of those forms, has bad percent-encoding,
// decodes to invalid UTF-8 or, in the path, to a NUL.
bool decode_target(std::string_view target, std::string& path, std::map<std::string, std::string>& query);

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s);

// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), formatted once a second
// per thread. The view stays valid until the next call on the same thread.
std::string_view http_date();

// RFC 9110 field-name (a token) and field-value (no CR, LF or NUL).
bool valid_header_name(std::string_view name);
bool valid_header_value(std::string_view value);

bool iequals(std::string_view a, std::string_view b);

// Appends one Server-Sent Event: "id: …\n" and "event: …\n" when not empty (CR, LF and NUL
// removed), one "data: …\n" per line of `data` (lines end at CRLF, LF or CR), then "\n".
void append_sse_event(std::string& out, std::string_view event, std::string_view data, std::string_view id);
// Appends a comment (": text\n" per line, then "\n"); clients ignore it, proxies see traffic.
void append_sse_comment(std::string& out, std::string_view text);

// A request id a client may choose (X-Request-Id): 1 to 64 of [A-Za-z0-9._-], so it is safe in a
// header, a JSON string and a log line as it is.
bool valid_request_id(std::string_view id);
// A new request id into `out` (its storage reused): 12 hex digits chosen at random once per process,
// '-', then a process-wide counter in hex. Unique within the process, unlikely to repeat across them.
void new_request_id(std::string& out);
// Adds "name":"value" (value JSON-escaped) as the last member of the JSON object in `body`. False,
// and `body` untouched, when `body` does not end with '}'.
bool add_json_member(std::string& body, std::string_view name, std::string_view value);

}  // namespace igb::server::wire
