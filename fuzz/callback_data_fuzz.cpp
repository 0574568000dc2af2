// Callback data: Telegram echoes a button's callback_data (up to 64 bytes) from the client, so it is
// forgeable. Also the job meta string, which a job row carries back to the bot. Oracle: whatever
// decodes re-encodes to something that decodes to the same value.
#include "bot/codes.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = igb::fuzz::as_view(data, size);
  if (auto cb = igb::bot::decode_callback(text); cb && !cb->action.empty()) {
    // (":x" decodes to an empty action, which names no handler and has no encoding of its own.)
    IGB_FUZZ_CHECK(size <= igb::bot::kMaxCallbackData);
    auto again = igb::bot::encode_callback(cb->action, cb->argument);
    IGB_FUZZ_CHECK(again.has_value());
    auto back = igb::bot::decode_callback(*again);
    IGB_FUZZ_CHECK(back && back->action == cb->action && back->argument == cb->argument);
  }
  if (auto meta = igb::bot::decode_meta(text)) {
    auto back = igb::bot::decode_meta(igb::bot::encode_meta(*meta));
    IGB_FUZZ_CHECK(back.has_value());
    IGB_FUZZ_CHECK(back->chat_id == meta->chat_id && back->status_message_id == meta->status_message_id &&
                   back->reply_to == meta->reply_to && back->lang == meta->lang && back->group == meta->group);
  }
  return 0;
}
