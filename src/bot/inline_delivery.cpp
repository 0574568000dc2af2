// Inline mode's delivery: a job chosen in inline mode (";inline=<id>" in its meta) ends in its inline
// message. Telegram takes no upload into an inline message (editMessageMedia there wants a file_id or
// a URL), so a picture Telegram does not have yet is first sent as a photo to the user's private chat
// with the bot, and its file_id then goes into the inline message. A user who never started the bot
// cannot receive that upload: the placeholder then becomes "open the bot" with a link (/start inline;
// the picture is in their /history). Failures and cancels edit the placeholder into the same friendly
// texts a private chat gets. Queue positions are not shown: the placeholder names the prompt, and
// edits of an inline message are not worth the rate limit while it waits.
#include <spdlog/spdlog.h>

#include "bot/inline_mode.hpp"
#include "util/strings.hpp"

namespace igb::bot {

namespace {

using Outcome = InlineDelivered::Outcome;

Outcome edited(bool ok, bool outage) { return ok ? Outcome::shown : outage ? Outcome::retry : Outcome::gave_up; }

}  // namespace

net::awaitable<InlineDelivered> deliver_inline(Context& c, core::Job job, std::string inline_message_id) {
  InlineDelivered out;
  if (job.status == core::JobStatus::failed || job.status == core::JobStatus::canceled) {
    std::string text =
        job.status == core::JobStatus::canceled
            ? c.t(job.quota_state == core::QuotaState::committed ? "status.canceled_counted" : "status.canceled")
            : c.t(std::string("failed.") +
                  core::to_string(core::reported_failure(job).value_or(core::FailureCode::unavailable)));
    bool outage = false;
    telegram::InlineKeyboardMarkup none;
    bool ok = co_await edit_inline_text(c, inline_message_id, std::move(text), std::move(none), &outage);
    out.outcome = edited(ok, outage);
    co_return out;
  }
  if (job.status != core::JobStatus::succeeded) co_return out;  // not called for jobs in flight

  auto image = co_await c.generation().image_of(job);
  if (!image) {
    spdlog::error("bot: job {} succeeded without a stored image", job.id);
    co_return out;
  }
  out.image_id = image->id;
  const auto caption =
      util::utf8_shorten(c.t("inline.caption", {{"prompt", util::utf8_shorten(job.params.prompt, 200)}}), 1024);
  std::string file_id = image->telegram_file_id.value_or("");
  if (file_id.empty()) {
    const std::int64_t target = c.chat_id();  // the user's private chat
    auto bytes = co_await c.generation().image_bytes(*image);
    if (!bytes) {
      spdlog::error("bot: image {} of job {} is missing from the image store", image->id, job.id);
      co_return out;
    }
    telegram::SendPhoto p{.chat_id = target,
                          .photo = telegram::InputFile::upload(job.id + ".png", image->mime, std::move(*bytes)),
                          .caption = caption};
    auto& api = c.deps().api;
    auto call = [&] { return api.send_photo(p); };
    auto r = co_await c.deps().scheduler.send(target, telegram::ChatKind::private_chat, call);
    if (!r.ok()) {
      const auto kind = r.error().kind;
      if (r.error().outage() || kind == telegram::ApiError::Kind::rate_limited) {
        out.outcome = Outcome::retry;
        co_return out;
      }
      spdlog::warn("bot: uploading the picture of inline job {} failed: {} {}", job.id, telegram::to_string(kind),
                   r.error().description);
      if (kind != telegram::ApiError::Kind::blocked) co_return out;
      // The user never started the bot (or blocked it): the placeholder says where the picture is.
      // Not taken as the user blocking the bot: they may never have started it.
      auto text = c.t("inline.start_bot");
      auto kb = open_bot_keyboard(c, c.t("inline.open_bot"), "inline");
      bool outage = false;
      bool ok = co_await edit_inline_text(c, inline_message_id, std::move(text), std::move(kb), &outage);
      out.outcome = edited(ok, outage);
      co_return out;
    }
    if (r->photo.empty()) co_return out;
    file_id = r->photo.back().file_id;  // the largest size
    out.new_file_id = file_id;
  }
  telegram::EditInlineMessageMedia m{
      .inline_message_id = std::move(inline_message_id), .photo_file_id = file_id, .caption = caption};
  auto& api = c.deps().api;
  auto call = [&] { return api.edit_inline_message_media(m); };
  auto r = co_await with_429_retries(call);
  if (r.ok() || r.error().kind == telegram::ApiError::Kind::not_modified) {
    out.outcome = Outcome::shown;
    co_return out;
  }
  spdlog::warn("bot: editMessageMedia of inline job {} failed: {} {}", job.id, telegram::to_string(r.error().kind),
               r.error().description);
  out.outcome = r.error().outage() ? Outcome::retry : Outcome::gave_up;
  co_return out;
}

}  // namespace igb::bot
