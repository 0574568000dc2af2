#include "bot/keyboards.hpp"

#include <spdlog/spdlog.h>

#include "bot/inline_mode.hpp"
#include "core/dimensions.hpp"
#include "core/styles.hpp"

namespace igb::bot {

telegram::InlineKeyboardMarkup Bot::plan_buttons(const Ctx& c) const {
  telegram::InlineKeyboardMarkup kb;
  for (const auto& p : d_.plans.paid()) {
    kb.inline_keyboard.push_back({{.text = t(c, "quota.plan_button",
                                             {{"title", p.title},
                                              {"images", std::to_string(p.images_per_period)},
                                              {"stars", std::to_string(p.price_stars)}}),
                                   .callback_data = callback_data(BuyData{.plan_id = p.id})}});
  }
  return kb;
}

telegram::InlineKeyboardMarkup single_button(std::string text, std::string data) {
  telegram::InlineKeyboardMarkup kb;
  kb.inline_keyboard.push_back({{.text = std::move(text), .callback_data = std::move(data)}});
  return kb;
}

std::string settings_text(const Context& c) {
  const auto& u = c.user();
  return c.t("settings.text", {{"ar", u.aspect_ratio.empty() ? c.t("settings.square") : u.aspect_ratio},
                               {"style", u.style.empty() ? c.t("settings.none") : u.style},
                               {"lang", c.t("language_name")}});
}

telegram::InlineKeyboardMarkup settings_keyboard(const Context& c) {
  telegram::InlineKeyboardMarkup kb;
  kb.inline_keyboard.push_back(
      {{.text = c.t("settings.aspect_ratio"), .callback_data = callback_data(SettingsData{.menu = "ar"})},
       {.text = c.t("settings.style"), .callback_data = callback_data(SettingsData{.menu = "st"})}});
  kb.inline_keyboard.push_back(
      {{.text = c.t("settings.language"), .callback_data = callback_data(SettingsData{.menu = "lg"})}});
  return kb;
}

std::optional<std::pair<std::string, telegram::InlineKeyboardMarkup>> settings_menu(const Context& c,
                                                                                    std::string_view which) {
  telegram::InlineKeyboardMarkup kb;
  std::string text;
  if (which == "ar") {
    text = c.t("settings.choose_ar");
    std::vector<telegram::InlineKeyboardButton> row;
    for (auto r : kRatios) {
      row.push_back({.text = std::string(r), .callback_data = callback_data(AspectRatioData{.ratio = std::string(r)})});
      if (row.size() == 4) kb.inline_keyboard.push_back(std::exchange(row, {}));
    }
    if (!row.empty()) kb.inline_keyboard.push_back(std::move(row));
  } else if (which == "st") {
    text = c.t("settings.choose_style");
    std::vector<telegram::InlineKeyboardButton> row{
        {.text = c.t("settings.none"), .callback_data = callback_data(StyleData{.style = "-"})}};
    for (const auto& s : core::kStyles) {
      row.push_back(
          {.text = std::string(s.name), .callback_data = callback_data(StyleData{.style = std::string(s.name)})});
      if (row.size() == 4) kb.inline_keyboard.push_back(std::exchange(row, {}));
    }
    if (!row.empty()) kb.inline_keyboard.push_back(std::move(row));
  } else if (which == "lg") {
    text = c.t("lang.choose");
    kb = language_keyboard(c.deps().texts);
  } else {
    return std::nullopt;
  }
  kb.inline_keyboard.push_back({{.text = c.t("settings.back"), .callback_data = callback_data(SettingsData{})}});
  return std::pair{std::move(text), std::move(kb)};
}

telegram::InlineKeyboardMarkup language_keyboard(const Catalogs& texts) {
  telegram::InlineKeyboardMarkup kb;
  for (const auto& lang : texts.languages()) {
    kb.inline_keyboard.push_back(
        {{.text = texts.text(lang, "language_name"), .callback_data = callback_data(LanguageData{.lang = lang})}});
  }
  return kb;
}

net::awaitable<void> show_settings(Context& c, std::optional<std::int64_t> edit_message) {
  if (edit_message) {
    auto text = settings_text(c);
    auto kb = settings_keyboard(c);
    if (co_await c.edit(*edit_message, std::move(text), std::move(kb))) co_return;
  }
  auto text = settings_text(c);
  auto kb = settings_keyboard(c);
  auto sent = co_await c.reply_menu(std::move(text), std::move(kb));
  (void)sent;
}

net::awaitable<std::pair<std::string, telegram::InlineKeyboardMarkup>> refusal_text(Context& c, core::Error e,
                                                                                    int count) {
  const auto& d = c.deps();
  std::string text;
  telegram::InlineKeyboardMarkup kb;
  switch (e.code) {
    case core::ErrorCode::quota_exhausted: {
      auto q = co_await c.generation().quota(c.user().id);
      text = c.t("quota.exhausted", {{"limit", std::to_string(q.limit)}, {"when", format_time(q.resets_at)}});
      kb = c.plan_buttons();
      break;
    }
    case core::ErrorCode::free_paused:
    case core::ErrorCode::spend_paused: {
      const auto resume = d.clock.now() + e.retry_after.value_or(core::Millis(0));
      const bool spend = e.code == core::ErrorCode::spend_paused;
      const std::string key = spend ? "quota.spend_paused" : "quota.free_paused";
      text = c.t(key, {{"when", format_time(resume)}});
      kb = c.plan_buttons();
      // The admins hear of it at once (the notices pass claims the day, so once a day in all).
      if (spend) c.wake_notices();
      break;
    }
    case core::ErrorCode::too_many_failures: {
      auto q = co_await c.generation().quota(c.user().id);
      text = c.t("quota.too_many_failures",
                 {{"limit", std::to_string(q.failed_limit)}, {"when", format_time(q.resets_at)}});
      break;
    }
    case core::ErrorCode::too_many_jobs: text = c.t("quota.too_many_jobs", {{"count", std::to_string(count)}}); break;
    case core::ErrorCode::invalid_argument:
      if (core::is_prompt_blocked(e)) {
        text = c.t(core::is_blocked_by_safe_mode(e) ? "prompt.blocked_group" : "prompt.blocked");
      } else {
        text = c.t("prompt.invalid", {{"reason", e.public_message}});
      }
      break;
    case core::ErrorCode::forbidden: text = c.t("error.banned"); break;
    default:
      spdlog::error("bot: submit failed: {} ({})", e.public_message, e.internal_detail);
      text = c.t("error.internal");
  }
  co_return std::pair{std::move(text), std::move(kb)};
}

std::string plans_text(const Context& c) {
  std::string text = c.t("payments.plans_title");
  for (const auto& p : c.deps().plans.paid()) {
    text += "\n" + c.t("payments.plan_line", {{"title", p.title},
                                              {"images", std::to_string(p.images_per_period)},
                                              {"stars", std::to_string(p.price_stars)}});
  }
  return text;
}

std::string bot_link(const Context& c, const std::string& start) {
  return "https://t.me/" + c.options().bot_username + (start.empty() ? "" : "?start=" + start);
}

telegram::InlineKeyboardMarkup open_bot_keyboard(const Context& c, std::string text, const std::string& start) {
  telegram::InlineKeyboardMarkup kb;
  kb.inline_keyboard.push_back({{.text = std::move(text), .url = bot_link(c, start)}});
  return kb;
}

net::awaitable<core::JobParams> prompt_params(Context& c, PromptRequest req) {
  const auto& limits = c.options().prompt_limits;
  const auto& user = c.user();
  core::JobParams params{.prompt = req.prompt,
                         .steps = req.steps.value_or(limits.max_steps),
                         .seed = req.seed,
                         .style = req.style.value_or(user.style)};
  if (params.style == "-") params.style.clear();
  // The size: the option, else the user's default, else square, fitted to the plan.
  std::string ar = req.aspect_ratio.value_or(user.aspect_ratio.empty() ? "1:1" : user.aspect_ratio);
  auto ratio = core::parse_aspect_ratio(ar).value_or(std::pair{1, 1});
  auto dims = co_await c.generation().fit(user.id, ratio);
  params.width = dims.width;
  params.height = dims.height;
  co_return params;
}

// Groups get the group lists too while safe mode is on (the default); private chats the base lists.
net::awaitable<core::PolicyLevel> policy_level(Context& c) {
  if (!c.group()) co_return core::PolicyLevel::base;
  const bool on = co_await c.generation().safe_mode(c.chat_id());
  co_return on ? core::PolicyLevel::strict : core::PolicyLevel::base;
}

// The prompt in English when it needs translating and the assistant can (time-boxed; a user with no
// images left is not worth a call: the submission is refused anyway). nullopt: keep it.
net::awaitable<std::optional<std::string>> translated(Context& c, const std::string& prompt) {
  auto* assistant = c.deps().assistant;
  if (assistant == nullptr) co_return std::nullopt;
  auto q = co_await c.generation().quota(c.user().id);
  if (q.remaining() <= 0) co_return std::nullopt;
  auto english = co_await assistant->translate(prompt);
  if (!english || *english == prompt) co_return std::nullopt;
  co_return english;
}

net::awaitable<void> refuse(Context& c, const core::Error& error, int count, std::optional<std::int64_t> reply_to) {
  auto refusal = co_await refusal_text(c, error, count);
  telegram::SendMessage answer{.text = std::move(refusal.first), .reply_to_message_id = reply_to};
  if (!refusal.second.inline_keyboard.empty()) answer.reply_markup = std::move(refusal.second);
  (void)co_await c.send(std::move(answer));
}

net::awaitable<void> submit(Context& c, core::JobParams params, int count, std::optional<std::int64_t> reply_to,
                            SubmitPrompt prompt) {
  const auto& d = c.deps();
  // No status message first: under a crowd every message costs a 30th of a second of Telegram's budget
  // for everyone. The job is queued, the prompt acknowledged with a chat action, and delivery sends a
  // status message only if the wait is predicted long (Bot::maybe_status_message). A prompt the policy
  // blocks (groups: with safe mode's lists while it is on) is refused by submit like any refusal below.
  const auto level = co_await policy_level(c);
  // Translation waits here, before the job exists: this chat's next updates wait for it (at most the
  // assistant's time box), other chats and the update loop do not. The user's own words are screened
  // first: a blocked prompt is not worth the assistant's call, and a translation must not launder a
  // blocked term (submit screens the English as well).
  if (prompt.translate && d.assistant != nullptr) {
    if (auto allowed = co_await c.generation().screen(c.user().id, params.prompt, level); !allowed) {
      co_await refuse(c, allowed.error(), count, reply_to);
      co_return;
    }
    if (auto english = co_await translated(c, params.prompt)) {
      prompt.original = std::exchange(params.prompt, std::move(*english));
    }
  }
  JobMeta meta{.chat_id = c.chat_id(),
               .reply_to = reply_to.value_or(0),
               .lang = c.lang(),
               .group = c.group(),
               .original = std::move(prompt.original)};
  core::SubmitRequest request{.user = c.user().id,
                              .params = std::move(params),
                              .count = count,
                              .source = "bot",
                              .meta = encode_meta(meta),
                              .policy = level};
  auto outcome = co_await c.generation().submit(std::move(request));
  if (outcome.ok()) {
    if (d.job_queued) d.job_queued();
    c.wake_delivery();
    co_await c.acknowledge();
    co_return;
  }
  co_await refuse(c, outcome.error(), count, reply_to);
}

}  // namespace igb::bot
