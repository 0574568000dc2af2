// Callback data: Telegram echoes a button's callback_data (up to 64 bytes) from the client, so it is
// forgeable. Also the job meta string, which a job row carries back to the bot. Oracle: whatever
// decodes as a kind of button re-encodes (within 64 bytes) to something that decodes to the same value.
#include "bot/callback_data.hpp"
#include "bot/job_meta.hpp"
#include "fuzz_input.hpp"

namespace {

template <class T, class Same>
void round_trip(std::string_view text, Same same) {
  auto data = igb::bot::decode<T>(text);
  if (!data) return;
  IGB_FUZZ_CHECK(text.size() <= igb::bot::kMaxCallbackData);
  IGB_FUZZ_CHECK(igb::bot::callback_prefix(text) == T::kPrefix);
  auto again = igb::bot::encode(*data);
  IGB_FUZZ_CHECK(again.has_value());
  auto back = igb::bot::decode<T>(*again);
  IGB_FUZZ_CHECK(back.has_value() && same(*back, *data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace igb::bot;
  const auto text = igb::fuzz::as_view(data, size);
  round_trip<AgainData>(text, [](auto& a, auto& b) { return a.job_id == b.job_id; });
  round_trip<VariationsData>(text, [](auto& a, auto& b) { return a.job_id == b.job_id; });
  round_trip<OriginalData>(text, [](auto& a, auto& b) { return a.job_id == b.job_id; });
  round_trip<CancelJobData>(text, [](auto& a, auto& b) { return a.job_id == b.job_id; });
  round_trip<SettingsData>(text, [](auto& a, auto& b) { return a.menu == b.menu; });
  round_trip<AspectRatioData>(text, [](auto& a, auto& b) { return a.ratio == b.ratio; });
  round_trip<StyleData>(text, [](auto& a, auto& b) { return a.style == b.style; });
  round_trip<LanguageData>(text, [](auto& a, auto& b) { return a.lang == b.lang; });
  round_trip<ApiKeyData>(text, [](auto& a, auto& b) { return a.action == b.action; });
  round_trip<BuyData>(text, [](auto& a, auto& b) { return a.plan_id == b.plan_id; });
  round_trip<RenewalData>(text, [](auto& a, auto& b) { return a.on == b.on; });
  round_trip<EnhanceData>(text, [](auto& a, auto& b) { return a.job_id == b.job_id; });
  if (auto meta = decode_meta(text)) {
    auto back = decode_meta(encode_meta(*meta));
    IGB_FUZZ_CHECK(back.has_value());
    IGB_FUZZ_CHECK(back->chat_id == meta->chat_id && back->status_message_id == meta->status_message_id &&
                   back->reply_to == meta->reply_to && back->lang == meta->lang && back->group == meta->group &&
                   back->original == meta->original);
  }
  return 0;
}
