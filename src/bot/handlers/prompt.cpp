// A prompt becomes jobs: options parsed, the user's defaults applied, a status message shown, then
// the jobs queued with that message as their place of delivery.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"
#include "core/dimensions.hpp"

namespace igb::bot {

net::awaitable<void> Bot::on_prompt(Ctx& c, const telegram::Message& m, std::string text) {
  auto parsed = parse_prompt(text, o_.prompt_limits);
  if (auto* p = std::get_if<PromptProblem>(&parsed)) {
    auto text = t(c, p->key, p->args);
    auto sent = co_await send_text(c, std::move(text), m.message_id);
    (void)sent;
    co_return;
  }
  auto& req = std::get<PromptRequest>(parsed);
  core::JobParams params{.prompt = req.prompt, .steps = req.steps.value_or(o_.prompt_limits.max_steps),
                         .seed = req.seed, .style = req.style.value_or(c.user.style)};
  if (params.style == "-") params.style.clear();
  // The size: the option, else the user's default, else square, fitted to the plan.
  std::string ar = req.aspect_ratio.value_or(c.user.aspect_ratio.empty() ? "1:1" : c.user.aspect_ratio);
  auto ratio = core::parse_aspect_ratio(ar).value_or(std::pair{1, 1});
  auto plan_of = [&] { return d_.quota.status(c.user.id).plan; };
  auto plan = co_await d_.pool.run(plan_of);
  auto dims = core::dimensions_for(ratio, plan.max_pixels, plan.max_side);
  params.width = dims.width;
  params.height = dims.height;
  co_await submit(c, std::move(params), 1, m.message_id);
}

net::awaitable<void> Bot::submit(Ctx& c, core::JobParams params, int count, std::optional<std::int64_t> reply_to) {
  // The status message first, so that the jobs know where to report from the moment they exist.
  // While Telegram is down (502, no connection) the prompt waits, and this chat's later updates with
  // it (other chats go on), rather than being dropped: 1, 2, 4 … 30 s apart, about ten minutes in all.
  // Shutting down meanwhile leaves the update in the inbox, handled again after the restart.
  std::optional<telegram::Message> sent;
  auto pause = std::chrono::seconds(1);
  for (int attempt = 0;; ++attempt) {
    bool outage = false;
    telegram::SendMessage status{.text = t(c, "status.queued_short"), .reply_to_message_id = reply_to};
    sent = co_await send(c.chat_id, c.group, std::move(status), &outage);
    if (sent || !outage || attempt >= 25) break;
    if (!co_await sleep_for(pause)) throw boost::system::system_error(net::error::operation_aborted);
    pause = std::min(pause * 2, std::chrono::seconds(30));
  }
  if (!sent) co_return;  // blocked, or Telegram refused: nothing queued, nothing charged
  JobMeta meta{.chat_id = c.chat_id, .status_message_id = sent->message_id, .reply_to = reply_to.value_or(0),
               .lang = c.lang, .group = c.group};
  core::SubmitRequest request{.user = c.user.id, .params = std::move(params), .count = count, .source = "bot",
                              .meta = encode_meta(meta)};
  auto queue = [&] { return d_.jobs.submit(request); };
  auto outcome = co_await d_.pool.run(queue);
  if (outcome.ok()) {
    if (d_.job_queued) d_.job_queued();
    wake_delivery();
    co_return;
  }
  const auto& e = outcome.error();
  std::string text;
  telegram::InlineKeyboardMarkup kb;
  switch (e.code) {
    case core::ErrorCode::quota_exhausted: {
      auto read = [&] { return d_.quota.status(c.user.id); };
      auto q = co_await d_.pool.run(read);
      text = t(c, "quota.exhausted", {{"limit", std::to_string(q.limit)}, {"when", format_time(q.resets_at)}});
      kb = plan_buttons(c);
      break;
    }
    case core::ErrorCode::free_paused: {
      const auto resume = d_.clock.now() + e.retry_after.value_or(core::Millis(0));
      text = t(c, "quota.free_paused", {{"when", format_time(resume)}});
      kb = plan_buttons(c);
      break;
    }
    case core::ErrorCode::too_many_failures: {
      auto read = [&] { return d_.quota.status(c.user.id); };
      auto q = co_await d_.pool.run(read);
      text = t(c, "quota.too_many_failures",
               {{"limit", std::to_string(q.failed_limit)}, {"when", format_time(q.resets_at)}});
      break;
    }
    case core::ErrorCode::too_many_jobs:
      text = t(c, "quota.too_many_jobs", {{"count", std::to_string(count)}});
      break;
    case core::ErrorCode::invalid_argument:
      text = t(c, "prompt.invalid", {{"reason", e.public_message}});
      break;
    case core::ErrorCode::forbidden:
      text = t(c, "error.banned");
      break;
    default:
      spdlog::error("bot: submit failed: {} ({})", e.public_message, e.internal_detail);
      text = t(c, "error.internal");
  }
  telegram::EditMessageText edit_status{.message_id = sent->message_id, .text = std::move(text), .reply_markup = std::move(kb)};
  co_await edit(c.chat_id, std::move(edit_status));
}

telegram::InlineKeyboardMarkup Bot::plan_buttons(const Ctx& c) const {
  telegram::InlineKeyboardMarkup kb;
  for (const auto& p : d_.plans.paid()) {
    kb.inline_keyboard.push_back({{.text = t(c, "quota.plan_button", {{"title", p.title},
                                                                        {"images", std::to_string(p.images_per_period)},
                                                                        {"stars", std::to_string(p.price_stars)}}),
                                   .callback_data = "buy:" + p.id}});
  }
  return kb;
}

}  // namespace igb::bot
