#pragma once
// Keyboards and menus more than one handler shows (settings, languages, prompts' submission).
// Keyboards are built outside coroutines: GCC 12 cannot keep an initializer list's array in a
// coroutine frame.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "bot/context.hpp"

namespace igb::bot {

inline constexpr std::array<std::string_view, 8> kRatios{"1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "21:9"};

// One row of one button.
telegram::InlineKeyboardMarkup single_button(std::string text, std::string data);

std::string settings_text(const Context& c);
telegram::InlineKeyboardMarkup settings_keyboard(const Context& c);
// A settings submenu ("ar", "st", "lg"): its text and buttons; nullopt for an unknown one.
std::optional<std::pair<std::string, telegram::InlineKeyboardMarkup>> settings_menu(const Context& c,
                                                                                    std::string_view which);
telegram::InlineKeyboardMarkup language_keyboard(const Catalogs& texts);
// The settings message: edits `edit_message` in place if given and possible, else sends it anew.
net::awaitable<void> show_settings(Context& c, std::optional<std::int64_t> edit_message);

// Where params.prompt came from, for the prompt assistant.
struct SubmitPrompt {
  // What the user wrote, when params.prompt is another text (an enrichment, the source job's
  // translation): the caption shows it. Empty: params.prompt is the user's own.
  std::string original;
  // Ask the assistant (if on) to translate params.prompt into English once the status message is
  // out; if it cannot, params.prompt goes as written.
  bool translate = false;
};

// Queues `count` images of `params` for the user: the status message first (it is where the jobs
// report), then the jobs; a refusal (quota, pause, too many jobs…) is written into that message.
net::awaitable<void> submit(Context& c, core::JobParams params, int count, std::optional<std::int64_t> reply_to,
                            SubmitPrompt prompt);
inline net::awaitable<void> submit(Context& c, core::JobParams params, int count,
                                   std::optional<std::int64_t> reply_to) {
  return submit(c, std::move(params), count, reply_to, SubmitPrompt{});
}

}  // namespace igb::bot
