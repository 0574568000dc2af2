#pragma once
// Where a bot job's outcome goes, kept in the job's meta column (the bot's own, opaque to the core).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace igb::bot {

// "chat=<id>;status=<message id>;reply=<message id>;lang=<code>;group=<0|1>[;orig=<base64>]".
struct JobMeta {
  std::int64_t chat_id = 0;
  std::int64_t status_message_id = 0;  // the message edited as the job moves; 0 if none
  std::int64_t reply_to = 0;           // the user's prompt message
  std::string lang = "en";
  bool group = false;
  // What the user wrote, when the provider was sent another text (the prompt assistant's translation
  // or enrichment, which is the job's params.prompt); empty: the user's text is params.prompt. In
  // base64, since a prompt may hold the meta's separators.
  std::string original;
};

// The prompt to show the user: their own words.
inline const std::string& shown_prompt(const JobMeta& meta, const std::string& sent) {
  return meta.original.empty() ? sent : meta.original;
}

std::string encode_meta(const JobMeta& meta);
std::optional<JobMeta> decode_meta(std::string_view text);

}  // namespace igb::bot
