#pragma once
// Inline mode ("@bot <prompt>" in any chat; src/bot/inline_mode.cpp, inline_delivery.cpp) and the
// prompt helpers it shares with a chat's prompts (defined in keyboards.cpp). Inline updates have no
// chat, so Bot::handle hands them here directly rather than through the router's chat filters.
#include <string>
#include <string_view>
#include <utility>

#include "bot/context.hpp"

namespace igb::bot {

// ---- Shared with a chat's prompts (keyboards.cpp)

// The paid plans, one line each (/plans, /start plans).
std::string plans_text(const Context& c);
// "https://t.me/<bot>" or, with a deep-link payload, "https://t.me/<bot>?start=<payload>".
std::string bot_link(const Context& c, const std::string& start);
// One URL button that opens the bot (an inline message's callback button would come back without a chat).
telegram::InlineKeyboardMarkup open_bot_keyboard(const Context& c, std::string text, const std::string& start);
// A parsed prompt as job parameters: the user's defaults applied, the size fitted to the plan.
net::awaitable<core::JobParams> prompt_params(Context& c, PromptRequest req);
// What to tell a user whose submission was refused (quota, pause, too many jobs…), and the plan
// buttons when buying would help.
net::awaitable<std::pair<std::string, telegram::InlineKeyboardMarkup>> refusal_text(Context& c, core::Error e,
                                                                                    int count);

// ---- Inline updates (inline_mode.cpp)

// inline_query: the user's matching recent pictures and "Generate: <prompt>" (or, without quota,
// the button that opens the bot at its plans), answered once.
net::awaitable<void> answer_inline_query(Context& c);
// chosen_inline_result: "Generate" was picked; the job is submitted with the inline message as target.
net::awaitable<void> start_inline_generation(Context& c);

// The inline message a job's outcome goes to, kept in its meta after the chat's fields
// (";inline=<inline_message_id>"; decode_meta skips it). "" when the job is not an inline one.
std::string with_inline_target(std::string meta, const std::string& inline_message_id);
std::string inline_target(std::string_view meta);

// ---- Delivery (inline_delivery.cpp)

struct InlineDelivered {
  enum class Outcome { shown, retry, gave_up };
  Outcome outcome = Outcome::gave_up;
  std::string image_id;
  std::string new_file_id;  // set when the picture was uploaded: the caller saves it on the image
};

// Puts a finished, failed or canceled job's outcome into its inline message. `c` speaks in the
// job's language; no user is loaded.
net::awaitable<InlineDelivered> deliver_inline(Context& c, core::Job job, std::string inline_message_id);

// Edits an inline message's text, waiting out 429s; false if that failed (*outage: Telegram was down).
net::awaitable<bool> edit_inline_text(Context& c, std::string inline_message_id, std::string text,
                                      telegram::InlineKeyboardMarkup keyboard, bool* outage = nullptr);

}  // namespace igb::bot
