#pragma once
// Where a bot job's outcome goes, kept in the job's meta column (the bot's own, opaque to the core).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace igb::bot {

// "chat=<id>;status=<message id>;reply=<message id>;lang=<code>;group=<0|1>".
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
