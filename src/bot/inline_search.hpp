#pragma once
// Inline mode's pure parts: which of a user's prompts an inline query finds, and which
// inline_message_id the bot accepts to keep (it goes into the job's delivery data).
#include <string>
#include <string_view>
#include <vector>

namespace igb::bot {

// An inline query is at most 256 characters (the Bot API); longer input is cut there.
inline constexpr std::size_t kMaxInlineQueryChars = 256;
// How many of the user's latest images an inline query looks through, and how many it shows.
inline constexpr int kInlineScan = 50;
inline constexpr int kInlineResults = 10;

// The words of `text` for matching: lower case (ASCII and Cyrillic), split at anything that is not a
// letter or digit (ASCII) or a multi-byte UTF-8 character; at most 32 words.
std::vector<std::string> search_words(std::string_view text);

// Whether a prompt matches a query: every word of the query is found inside some word of the prompt
// ("fox" finds "foxes", "снег" finds "снегу"), in any order. An empty query matches every prompt.
bool prompt_matches(std::string_view query, std::string_view prompt);

// Telegram's inline_message_id: an opaque string of base64url characters. Kept (in the job's meta)
// only when it is 1-128 of [A-Za-z0-9_-] (or '='), so it can hold none of the meta's separators.
bool valid_inline_message_id(std::string_view id);

}  // namespace igb::bot
