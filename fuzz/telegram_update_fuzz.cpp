// Telegram update decoding: what getUpdates returns and what the webhook receives are JSON from
// outside. The input is parsed as JSON, then decoded as one update and, when it is an array, as a
// getUpdates result.
#include <boost/json/parse.hpp>

#include "fuzz_input.hpp"
#include "telegram/codec.hpp"

namespace tg = igb::telegram;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(igb::fuzz::as_view(data, size), ec);
  if (ec) return 0;

  auto one = tg::decode_update(v);
  IGB_FUZZ_CHECK(one.ok() == (one.errors.empty() && one.value.has_value()));
  if (one.errors.empty()) IGB_FUZZ_CHECK(one.value.has_value());
  (void)one.error_text();

  auto many = tg::decode_updates(v);
  if (many.ok()) {
    IGB_FUZZ_CHECK(v.is_array());
    // Every element comes back, decoded or as its update_id alone; errors are listed exactly when
    // some element does not decode on its own.
    IGB_FUZZ_CHECK(many.value->updates.size() == v.as_array().size());
    bool all_decode = true;
    for (const auto& element : v.as_array()) all_decode = all_decode && tg::decode_update(element).ok();
    IGB_FUZZ_CHECK(many.value->skipped.empty() == all_decode);
  } else {
    (void)many.error_text();
  }
  return 0;
}
