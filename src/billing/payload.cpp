#include "billing/payload.hpp"

#include <stdexcept>

#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace igb::billing {
namespace {

constexpr std::size_t kMaxPayload = 128;  // Telegram: invoice payloads are 1-128 bytes

std::string mac_of(std::string_view body, std::string_view secret) {
  return util::base64url(util::hmac_sha256(secret, body).substr(0, 16));
}

}  // namespace

std::string sign_payload(const InvoicePayload& p, std::string_view secret) {
  if (!p.price_stars) throw std::logic_error("an invoice payload names the price it was made for");
  auto body = "p2." + std::to_string(p.user_id) + "." + p.plan_id + "." + std::to_string(*p.price_stars) + "." +
              util::random_hex(6);
  // With plan ids of at most 32 characters it fits in 128 bytes; verify_payload refuses a longer one.
  return body + "." + mac_of(body, secret);
}

std::optional<InvoicePayload> verify_payload(std::string_view payload, std::string_view secret) {
  if (payload.size() > kMaxPayload || secret.empty()) return std::nullopt;
  auto dot = payload.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto body = payload.substr(0, dot);
  if (!util::constant_time_equal(payload.substr(dot + 1), mac_of(body, secret))) return std::nullopt;
  auto parts = util::split(body, '.');
  if (parts.size() < 4 || parts[2].empty()) return std::nullopt;
  auto user = util::parse_int(parts[1]);
  if (!user) return std::nullopt;
  if (parts[0] == "p1" && parts.size() == 4) return InvoicePayload{.user_id = *user, .plan_id = parts[2]};
  if (parts[0] != "p2" || parts.size() != 5) return std::nullopt;
  auto price = util::parse_int(parts[3]);
  if (!price || *price <= 0) return std::nullopt;
  return InvoicePayload{.user_id = *user, .plan_id = parts[2], .price_stars = *price};
}

std::optional<InvoicePayload> verify_payload(std::string_view payload, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (auto p = verify_payload(payload, secret)) return p;
  }
  return std::nullopt;
}

}  // namespace igb::billing
