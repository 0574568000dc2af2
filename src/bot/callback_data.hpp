#pragma once
// A button's callback_data, one struct per kind of button. Telegram echoes the string back in a
// callback query; it holds at most 64 bytes and comes from the user's client, so it is forgeable:
// decoding only says which kind of button it claims to be, and every handler re-checks what it
// names (a job is read again as its owner's).
//
// Wire format (kept byte for byte from before the router): "<prefix>" or "<prefix>:<argument>", the
// argument being everything after the first ':'. encode<T>/decode<T> are defined in
// callback_data.cpp, the one place that knows each kind's argument.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace igb::bot {

inline constexpr std::size_t kMaxCallbackData = 64;  // Telegram's limit, in bytes

// A result's buttons and the status message's cancel button (the argument is the job id).
struct AgainData {  // the same prompt again, new seed
  static constexpr std::string_view kPrefix = "a";
  std::string job_id;
};
struct VariationsData {  // up to three images of the same prompt
  static constexpr std::string_view kPrefix = "v";
  std::string job_id;
};
struct EnhanceData {  // the same picture from a prompt the assistant enriched (shown when it is on)
  static constexpr std::string_view kPrefix = "e";
  std::string job_id;
};
struct OriginalData {  // the image as a file, uncompressed
  static constexpr std::string_view kPrefix = "o";
  std::string job_id;
};
struct CancelJobData {
  static constexpr std::string_view kPrefix = "c";
  std::string job_id;
};
// Settings: "set" (the settings message) or a submenu "set:ar", "set:st", "set:lg".
struct SettingsData {
  static constexpr std::string_view kPrefix = "set";
  std::string menu;  // empty: the settings message itself
};
struct AspectRatioData {  // a choice in the aspect ratio submenu
  static constexpr std::string_view kPrefix = "ar";
  std::string ratio;  // "16:9" (the argument may contain ':')
};
struct StyleData {  // a choice in the style submenu
  static constexpr std::string_view kPrefix = "st";
  std::string style;  // "-" for none
};
struct LanguageData {  // a choice in the language menu
  static constexpr std::string_view kPrefix = "lg";
  std::string lang;
};
struct ApiKeyData {  // API keys: "new" or "del"
  static constexpr std::string_view kPrefix = "key";
  std::string action;
};
struct BuyData {  // subscribe to a plan
  static constexpr std::string_view kPrefix = "buy";
  std::string plan_id;
};
struct RenewalData {  // stop or resume a Stars subscription's renewal: "ren:on", "ren:off"
  static constexpr std::string_view kPrefix = "ren";
  bool on = false;
};

// The wire string, or nullopt if it would exceed kMaxCallbackData (a bug in the caller: an argument
// this long must never reach a button).
template <class T>
[[nodiscard]] std::optional<std::string> encode(const T& data);
// nullopt unless `data` is a well-formed button of kind T (and within kMaxCallbackData).
template <class T>
[[nodiscard]] std::optional<T> decode(std::string_view data);

// The kind a callback_data names ("a" for "a:j…"); empty if it is empty or too long to be ours.
std::string_view callback_prefix(std::string_view data);

[[noreturn]] void throw_too_long(std::string_view prefix);

// encode<T>, throwing std::logic_error on an over-long payload: for building keyboards, where a
// too-long argument is a bug that must not send a button Telegram would refuse.
template <class T>
std::string callback_data(const T& data) {
  auto s = encode(data);
  if (!s) throw_too_long(T::kPrefix);
  return std::move(*s);
}

}  // namespace igb::bot
