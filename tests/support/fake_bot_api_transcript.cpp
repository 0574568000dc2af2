// The fake Bot API's chat transcripts: what a chat showed, line by line, as the golden files pin it.
#include "support/fake_bot_api_internal.hpp"

namespace igb::testing {

std::string FakeBotApi::Impl::indent_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

void FakeBotApi::Impl::keyboard_lines(const json::value& markup, std::vector<std::string>& lines, bool say_none) {
  if (!markup.is_object() || !markup.as_object().contains("inline_keyboard")) {
    if (say_none) lines.push_back("   (no keyboard)");
    return;
  }
  const auto& rows = markup.at("inline_keyboard");
  if (!rows.is_array() || rows.as_array().empty()) {
    if (say_none) lines.push_back("   (no keyboard)");
    return;
  }
  for (const auto& row : rows.as_array()) {
    std::string line = "  ";
    if (row.is_array())
      for (const auto& b : row.as_array()) {
        if (!b.is_object()) continue;
        const auto& o = b.as_object();
        line += " [" + str(o, "text") + "|";
        if (o.contains("callback_data"))
          line += str(o, "callback_data");
        else if (o.contains("url"))
          line += "url:" + str(o, "url");
        else if (bool_of(o, "pay"))
          line += "pay";
        else
          line += "?";
        line += "]";
      }
    lines.push_back(line);
  }
}

std::string FakeBotApi::transcript(std::int64_t chat_id) const {
  std::lock_guard lock(impl_->mutex);
  std::string out;
  if (auto it = impl_->chats.find(chat_id); it != impl_->chats.end())
    for (const auto& line : it->second.transcript) out += line + "\n";
  return out;
}

}  // namespace igb::testing
