#pragma once
// Invoice payloads: "p1.<user>.<plan>.<nonce>.<mac>", at most 128 bytes. The MAC (HMAC-SHA256 with
// PAYMENT_PAYLOAD_SECRET, 128 bits, base64url) covers the rest, so a payload cannot be forged or moved
// to another user or plan; the nonce makes each invoice's payload different.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace igb::billing {

struct InvoicePayload {
  std::int64_t user_id = 0;
  std::string plan_id;
};

std::string sign_payload(const InvoicePayload& p, std::string_view secret);
// nullopt unless the payload is well formed and its MAC matches.
std::optional<InvoicePayload> verify_payload(std::string_view payload, std::string_view secret);

}  // namespace igb::billing
