#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace igb::util {

// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view bytes);
// HMAC-SHA256 of `data` under `key`, raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
// Cryptographically random bytes (OpenSSL RAND_bytes); throws on failure.
std::string random_bytes(std::size_t n);
// n random bytes rendered as 2n lower-case hex characters.
std::string random_hex(std::size_t n);
// Like random_hex, for identifiers that must not collide but are no secret (job ids): the bytes
// come from RAND_bytes in blocks kept per thread, since one RAND_bytes call per id showed in profiles
// of POST /v1/generate. Not for keys or tokens (a forked child would repeat its parent's block).
std::string random_id_hex(std::size_t n);
// URL-safe base64 without padding.
std::string base64url(std::string_view bytes);
// Standard base64 (RFC 4648) with padding.
std::string base64(std::string_view bytes);
// Standard base64 (RFC 4648, with padding; line breaks allowed); nullopt if malformed.
std::optional<std::string> base64_decode(std::string_view text);
std::string to_hex(std::string_view bytes);
// Compares without early exit, so the time taken does not reveal the matching prefix.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace igb::util
