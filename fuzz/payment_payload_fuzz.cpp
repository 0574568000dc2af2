// The invoice payload check: pre_checkout_query and successful_payment carry back a payload that the
// client could have altered. verify_payload must accept only what sign_payload made with the secret.
// Oracles: a payload that verifies is exactly the one sign_payload would make for its content up to
// its nonce, so it re-verifies under the same secret and never under another one.
#include "bot/payload.hpp"
#include "fuzz_input.hpp"

namespace {
constexpr std::string_view kSecret = "fuzz-payload-secret-0123456789abcdef";
constexpr std::string_view kOtherSecret = "another-secret-0123456789abcdef";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = igb::fuzz::as_view(data, size);
  if (auto p = igb::bot::verify_payload(text, kSecret)) {
    IGB_FUZZ_CHECK(size <= 128);
    IGB_FUZZ_CHECK(!igb::bot::verify_payload(text, kOtherSecret).has_value());
    auto content = *p;
    if (!content.price_stars) content.price_stars = 1;  // a "p1" payload (no price): signed as "p2" now
    auto fresh = igb::bot::sign_payload(content, kSecret);
    auto again = igb::bot::verify_payload(fresh, kSecret);
    IGB_FUZZ_CHECK(again && again->user_id == p->user_id && again->plan_id == p->plan_id &&
                   again->price_stars == content.price_stars);
  }
  // The fuzzer cannot forge a MAC, so also sign what it makes up and check the round trip.
  if (size >= 8) {
    igb::bot::InvoicePayload made{
        .user_id = 0, .plan_id = std::string(text.substr(8)), .price_stars = 1 + static_cast<std::int64_t>(data[0])};
    std::uint64_t id = 0;
    for (int i = 0; i < 8; ++i) id = (id << 8) | data[i];
    made.user_id = static_cast<std::int64_t>(id);
    auto signed_payload = igb::bot::sign_payload(made, kSecret);
    auto back = igb::bot::verify_payload(signed_payload, kSecret);
    if (back) {
      IGB_FUZZ_CHECK(back->user_id == made.user_id && back->plan_id == made.plan_id &&
                     back->price_stars == made.price_stars);
    }
  }
  return 0;
}
