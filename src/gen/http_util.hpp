#pragma once
// Helpers shared by the provider clients: HTTP errors and transport failures to FailureKinds.
#include <optional>
#include <string>

#include "gen/backend.hpp"
#include "http/client.hpp"

namespace igb::gen {

// Retry-After as seconds or an HTTP date; nullopt if absent or unreadable.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value);

GenerationFailure transport_failure(const std::string& backend, const http::TransportError& e);

// The default classification of an HTTP error status, before provider-specific details.
FailureKind kind_for_status(int status);

// The first 200 bytes of a body, with control characters replaced, for a log line.
std::string snippet(const std::string& body);

bool is_image_content_type(const std::string& content_type);

}  // namespace igb::gen
