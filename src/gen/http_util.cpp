#include "gen/http_util.hpp"

#include <ctime>

#include "util/strings.hpp"

namespace igb::gen {

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value) {
  auto v = util::trim(value);
  if (v.empty()) return std::nullopt;
  if (auto secs = util::parse_int(v)) {
    if (*secs < 0) return std::nullopt;
    return std::chrono::seconds(std::min<long long>(*secs, 24LL * 3600));
  }
  std::tm tm{};
  std::string s(v);
  if (strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return std::nullopt;
  auto at = timegm(&tm);
  auto now = std::time(nullptr);
  return std::chrono::seconds(at > now ? at - now : 0);
}

GenerationFailure transport_failure(const std::string& backend, const http::TransportError& e) {
  return GenerationFailure{.kind = FailureKind::retry_later, .detail = e.what(), .backend = backend};
}

FailureKind kind_for_status(int status) {
  switch (status) {
    case 400:
    case 422: return FailureKind::invalid_request;
    case 401:
    case 403: return FailureKind::bad_credentials;
    case 402: return FailureKind::billing;
    case 404:
    case 410: return FailureKind::model_unavailable;
    case 408:
    case 409:
    case 425:
    case 429: return FailureKind::retry_later;
    default: return status >= 500 ? FailureKind::retry_later : FailureKind::permanent;
  }
}

std::string snippet(const std::string& body) {
  std::string out = body.substr(0, 200);
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

bool is_image_content_type(const std::string& content_type) {
  return util::to_lower(content_type).starts_with("image/");
}

}  // namespace igb::gen
