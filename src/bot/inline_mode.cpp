// Inline mode: "@bot <prompt>" typed in any chat. The answer lists the user's own recent pictures
// whose prompts match (photos Telegram already has, by file_id) and a "Generate: <prompt>" article;
// choosing that posts a placeholder (an article with a keyboard, so Telegram gives the bot its
// inline_message_id) and queues a job through the same use case as a private chat's prompt (quota,
// plans, queue and priority alike). Delivery then edits the placeholder into the picture
// (src/bot/inline_delivery.cpp). A user without quota gets a button that opens the bot at /start
// plans instead of the article. BotFather settings: /setinline (inline mode) and /setinlinefeedback
// (chosen_inline_result): README.md, docs/deploy.md.
#include "bot/inline_mode.hpp"

#include <spdlog/spdlog.h>

#include "bot/inline_search.hpp"
#include "util/strings.hpp"

namespace igb::bot {
namespace {

constexpr const char* kGenerateResult = "g";
// Results are the user's own (is_personal) and their list changes with every picture made: Telegram
// may keep an answer this long.
constexpr int kInlineCacheSeconds = 10;

telegram::AnswerInlineQuery inline_answer(const Context& c, const std::string& query_id, const std::string& query,
                                          const std::vector<usecases::Generation::Made>& made, bool has_quota) {
  telegram::AnswerInlineQuery a{.inline_query_id = query_id, .cache_time = kInlineCacheSeconds, .is_personal = true};
  const auto prompt = std::string(util::trim(query));
  const bool can_generate =
      !prompt.empty() && std::holds_alternative<PromptRequest>(parse_prompt(prompt, c.options().prompt_limits));
  if (can_generate && has_quota) {
    a.results.push_back({.kind = telegram::InlineQueryResult::Kind::article,
                         .id = kGenerateResult,
                         .title = c.t("inline.generate_title", {{"prompt", util::utf8_shorten(prompt, 100)}}),
                         .description = c.t("inline.generate_description"),
                         .message_text = c.t("inline.placeholder", {{"prompt", util::utf8_shorten(prompt, 1000)}}),
                         .reply_markup = open_bot_keyboard(c, c.t("inline.open_bot"), "")});
  }
  if (!has_quota)
    a.button = telegram::InlineQueryResultsButton{.text = c.t("inline.subscribe"), .start_parameter = "plans"};
  for (const auto& m : made) {
    if (static_cast<int>(a.results.size()) >= kInlineResults + (can_generate && has_quota ? 1 : 0)) break;
    // A translated prompt is found by the user's words too, and shown in them (the prompt assistant).
    auto meta = decode_meta(m.job.meta);
    const std::string own = meta ? meta->original : std::string();
    if (!m.image.telegram_file_id ||
        !(prompt_matches(prompt, m.job.params.prompt) || (!own.empty() && prompt_matches(prompt, own)))) {
      continue;
    }
    const std::string& shown = own.empty() ? m.job.params.prompt : own;
    a.results.push_back({.kind = telegram::InlineQueryResult::Kind::cached_photo,
                         .id = "j:" + m.job.id,
                         .title = util::utf8_shorten(shown, 100),
                         .photo_file_id = *m.image.telegram_file_id,
                         .caption = util::utf8_shorten(shown, 1024)});
  }
  return a;
}

}  // namespace

net::awaitable<void> answer_inline_query(Context& c) {
  const auto& q = *c.update().inline_query;
  const auto query = util::utf8_shorten(q.query, kMaxInlineQueryChars);
  auto made = co_await c.generation().history(c.user().id, kInlineScan);
  auto quota = co_await c.generation().quota(c.user().id);
  auto answer = inline_answer(c, q.id, query, made, quota.remaining() > 0);
  auto r = co_await c.deps().api.answer_inline_query(std::move(answer));
  if (!r.ok()) {
    spdlog::warn("bot: answerInlineQuery failed: {} {}", telegram::to_string(r.error().kind), r.error().description);
  }
}

net::awaitable<void> start_inline_generation(Context& c) {
  const auto& r = *c.update().chosen_inline_result;
  if (r.result_id != kGenerateResult) co_return;  // one of their own pictures: nothing to do
  if (!valid_inline_message_id(r.inline_message_id)) {
    // Without it there is nothing to deliver to (inline feedback without the keyboard), and a
    // malformed one is not kept.
    spdlog::warn("bot: chosen inline result of user {} without a usable inline_message_id; ignored", c.user().id);
    co_return;
  }
  const auto query = std::string(util::trim(util::utf8_shorten(r.query, kMaxInlineQueryChars)));
  auto parsed = parse_prompt(query, c.options().prompt_limits);
  if (auto* p = std::get_if<PromptProblem>(&parsed)) {
    auto text = c.t(p->key, p->args);
    telegram::InlineKeyboardMarkup none;
    co_await edit_inline_text(c, r.inline_message_id, std::move(text), std::move(none));
    co_return;
  }
  auto params = co_await prompt_params(c, std::get<PromptRequest>(parsed));
  // The user's private chat is where the picture is uploaded before it goes into the inline message.
  JobMeta meta{.chat_id = c.user().id, .lang = c.lang()};
  core::SubmitRequest request{.user = c.user().id,
                              .params = std::move(params),
                              .count = 1,
                              .source = "bot",
                              .meta = with_inline_target(encode_meta(meta), r.inline_message_id)};
  auto outcome = co_await c.generation().submit(std::move(request));
  if (outcome.ok()) {
    if (c.deps().job_queued) c.deps().job_queued();
    c.wake_delivery();
    co_return;
  }
  auto refusal = co_await refusal_text(c, outcome.error(), 1);
  // Buttons that press back to the bot would arrive without a chat: the inline message gets a link
  // that opens the bot at its plans instead.
  auto kb = open_bot_keyboard(c, c.t("inline.open_bot"), refusal.second.empty() ? "" : "plans");
  co_await edit_inline_text(c, r.inline_message_id, std::move(refusal.first), std::move(kb));
}

std::string with_inline_target(std::string meta, const std::string& inline_message_id) {
  meta += ";inline=";
  meta += inline_message_id;
  return meta;
}

std::string inline_target(std::string_view meta) {
  constexpr std::string_view kKey = ";inline=";
  auto at = meta.find(kKey);
  if (at == std::string_view::npos) return {};
  auto value = meta.substr(at + kKey.size());
  value = value.substr(0, value.find(';'));
  return valid_inline_message_id(value) ? std::string(value) : std::string();
}

net::awaitable<bool> edit_inline_text(Context& c, std::string inline_message_id, std::string text,
                                      telegram::InlineKeyboardMarkup keyboard, bool* outage) {
  telegram::EditInlineMessageText e{
      .inline_message_id = std::move(inline_message_id), .text = std::move(text), .reply_markup = std::move(keyboard)};
  auto& api = c.deps().api;
  auto call = [&] { return api.edit_inline_message_text(e); };
  auto r = co_await with_429_retries(call);
  if (r.ok() || r.error().kind == telegram::ApiError::Kind::not_modified) co_return true;
  if (outage) *outage = r.error().outage();
  spdlog::warn("bot: editMessageText of an inline message failed: {} {}", telegram::to_string(r.error().kind),
               r.error().description);
  co_return false;
}

}  // namespace igb::bot
