#include "bot/job_meta.hpp"

#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace igb::bot {

std::string encode_meta(const JobMeta& m) {
  return "chat=" + std::to_string(m.chat_id) + ";status=" + std::to_string(m.status_message_id) +
         ";reply=" + std::to_string(m.reply_to) + ";lang=" + m.lang + ";group=" + (m.group ? "1" : "0") +
         (m.original.empty() ? "" : ";orig=" + util::base64(m.original));
}

std::optional<JobMeta> decode_meta(std::string_view text) {
  JobMeta m;
  bool has_chat = false;
  for (const auto& part : util::split(text, ';')) {
    auto eq = part.find('=');
    if (eq == std::string::npos) return std::nullopt;
    auto key = std::string_view(part).substr(0, eq);
    auto value = std::string_view(part).substr(eq + 1);
    if (key == "lang") {
      m.lang = std::string(value);
      continue;
    }
    if (key == "inline") continue;  // inline mode's target (src/bot/inline_mode.hpp)
    if (key == "orig") {
      // Not readable: the job is still delivered, with the prompt sent.
      m.original = util::base64_decode(value).value_or("");
      continue;
    }
    auto n = util::parse_int(value);
    if (!n) return std::nullopt;
    if (key == "chat") {
      m.chat_id = *n;
      has_chat = true;
    } else if (key == "status") {
      m.status_message_id = *n;
    } else if (key == "reply") {
      m.reply_to = *n;
    } else if (key == "group") {
      m.group = *n != 0;
    }
  }
  if (!has_chat) return std::nullopt;
  return m;
}

}  // namespace igb::bot
