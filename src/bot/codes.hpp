#pragma once
// Small encodings the bot keeps outside itself: a button's callback_data (at most 64 bytes, echoed by
// Telegram, so forgeable: every action re-checks ownership) and the delivery data in a job's meta.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace igb::bot {

// "<action>" or "<action>:<argument>". Actions:
//   a:<job> again   v:<job> variations   o:<job> original file   c:<job> cancel
//   set  set:ar  set:st  set:lg  (menus)   ar:<ratio>  st:<style or ->  lg:<lang>  (choices)
//   key:new  key:del  (API keys)   buy:<plan>  (subscribe)
struct Callback {
  std::string action;
  std::string argument;
};

inline constexpr std::size_t kMaxCallbackData = 64;

// nullopt if the result would exceed 64 bytes (a bug in the caller).
std::optional<std::string> encode_callback(std::string_view action, std::string_view argument = {});
std::optional<Callback> decode_callback(std::string_view data);

// Where a bot job's outcome goes: "chat=<id>;status=<message id>;reply=<message id>;lang=<code>;group=<0|1>".
struct JobMeta {
  std::int64_t chat_id = 0;
  std::int64_t status_message_id = 0;  // the message edited as the job moves; 0 if none
  std::int64_t reply_to = 0;           // the user's prompt message
  std::string lang = "en";
  bool group = false;
};

std::string encode_meta(const JobMeta& meta);
std::optional<JobMeta> decode_meta(std::string_view text);

}  // namespace igb::bot
