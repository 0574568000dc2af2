#include "billing/payload.hpp"

#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace igb::billing {
namespace {

std::string mac_of(std::string_view body, std::string_view secret) {
  return util::base64url(util::hmac_sha256(secret, body).substr(0, 16));
}

}  // namespace

std::string sign_payload(const InvoicePayload& p, std::string_view secret) {
  auto body = "p1." + std::to_string(p.user_id) + "." + p.plan_id + "." + util::random_hex(6);
  return body + "." + mac_of(body, secret);
}

std::optional<InvoicePayload> verify_payload(std::string_view payload, std::string_view secret) {
  if (payload.size() > 128 || secret.empty()) return std::nullopt;
  auto dot = payload.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto body = payload.substr(0, dot);
  if (!util::constant_time_equal(payload.substr(dot + 1), mac_of(body, secret))) return std::nullopt;
  auto parts = util::split(body, '.');
  if (parts.size() != 4 || parts[0] != "p1") return std::nullopt;
  auto user = util::parse_int(parts[1]);
  if (!user || parts[2].empty()) return std::nullopt;
  return InvoicePayload{.user_id = *user, .plan_id = parts[2]};
}

}  // namespace igb::billing
