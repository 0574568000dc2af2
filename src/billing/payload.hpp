#pragma once
// Invoice payloads: "p2.<user>.<plan>.<price>.<nonce>.<mac>", at most 128 bytes (Telegram's limit).
// The MAC (HMAC-SHA256, 128 bits, base64url) covers the rest, so a payload cannot be forged or moved to
// another user, plan or price; the nonce makes each invoice's payload different. The price (Stars) is
// the one the invoice was made for: Telegram renews a subscription at that price, so a renewal is
// credited by it, not by the plan's price of the day. "p1.<user>.<plan>.<nonce>.<mac>" (no price) is
// what invoices made before that carry; they still verify.
//
// The key: PAYMENT_PAYLOAD_SECRET, or, without it, a random one the service made and keeps in the
// database (usecases::payload_secrets). Several keys may be accepted (after a rotation the stored one
// still checks the invoices it signed); the first one signs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace igb::billing {

struct InvoicePayload {
  std::int64_t user_id = 0;
  std::string plan_id;
  std::optional<std::int64_t> price_stars;  // nullopt only in a "p1" payload
};

// Signs a "p2" payload; `p.price_stars` must be set.
std::string sign_payload(const InvoicePayload& p, std::string_view secret);
// nullopt unless the payload is well formed and its MAC matches.
std::optional<InvoicePayload> verify_payload(std::string_view payload, std::string_view secret);
// The same with each of `secrets` in turn (empty ones are skipped).
std::optional<InvoicePayload> verify_payload(std::string_view payload, const std::vector<std::string>& secrets);

}  // namespace igb::billing
