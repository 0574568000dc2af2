// Job progress and outcomes, shown in the chat that asked. The jobs are the source of truth: the loop
// reads bot jobs that changed and are not yet delivered, edits their status message as they move, and
// sends the photo (or a friendly failure) once, marking the job delivered after Telegram took it. A
// restart picks up where it left off; the window between a sent photo and its mark is the only place
// a photo could be sent twice (a database outage in that window holds the mark back until it is
// written, see write_until_done).
#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>

#include "bot/callback_data.hpp"
#include "bot/context.hpp"
#include "bot/inline_mode.hpp"
#include "bot/keyboards.hpp"
#include "util/strings.hpp"

namespace igb::bot {

using namespace std::chrono_literals;
using telegram::ChatKind;

constexpr int kMaxSendAttempts = 5;  // a photo Telegram keeps refusing (not a 429) is given up

net::awaitable<void> Bot::run_delivery() {
  for (;;) {
    // The database out of reach for now (restarting, say) pauses delivery; it must not end the task
    // (a failed task stops the process).
    bool paused = false;
    try {
      co_await deliver_pass();
    } catch (const core::InfrastructureError& e) {
      if (!e.temporary()) throw;
      spdlog::warn("bot: delivery paused: {}", e.what());
      paused = true;
    }
    if (paused && !co_await sleep_for(std::chrono::seconds(1))) co_return;
    bool go_on = co_await delivery_wake_.wait(o_.delivery_poll);
    if (!go_on) co_return;
  }
}

net::awaitable<void> Bot::deliver_pass() {
  // Changes are read from a little before the last one seen: clocks of several processes differ.
  auto since = delivery_since_ - std::chrono::seconds(2);
  auto jobs = co_await state_.undelivered_jobs(since, 500);
  for (auto& job : jobs) {
    delivery_since_ = std::max(delivery_since_, job.updated_at);
    if (delivering_.contains(job.id)) {
      recheck_.insert(job.id);  // changed while being shown: looked at again when that is done
      continue;
    }
    delivering_.insert(job.id);
    d_.supervisor.spawn("bot-deliver", deliver(std::move(job)), /*critical=*/false);
  }
  // Queued jobs move up the queue without changing: refresh the positions shown now and then. Photos
  // that could not be sent are tried again at the same pace.
  std::vector<std::string> queued;
  for (const auto& [id, shown] : shown_) {
    if ((shown->status == core::JobStatus::queued || shown->retry) && !delivering_.contains(id) &&
        std::chrono::steady_clock::now() - shown->last_edit >= o_.position_edit_interval) {
      queued.push_back(id);
    }
  }
  for (const auto& id : queued) {
    auto job = co_await generation_.find_job(id);
    if (!job) {
      shown_.erase(id);
      continue;
    }
    delivering_.insert(id);
    d_.supervisor.spawn("bot-deliver", deliver(std::move(*job)), /*critical=*/false);
  }
  // Everyone still waiting for a picture keeps seeing "sending photo…".
  const auto now = std::chrono::steady_clock::now();
  if (!renewing_actions_) {
    std::set<std::int64_t> chats;
    for (const auto& [id, shown] : shown_) {
      // Not for an outcome being sent or retried later (an outage, a refusal): only while it is made.
      if (shown->retry || shown->finished_seen) continue;
      auto it = last_action_.find(shown->chat);
      if (it == last_action_.end() || now - it->second >= o_.chat_action_interval) chats.insert(shown->chat);
    }
    if (!chats.empty()) {
      renewing_actions_ = true;
      std::vector<std::int64_t> due(chats.begin(), chats.end());
      d_.supervisor.spawn("bot-actions", renew_chat_actions(std::move(due)), /*critical=*/false);
    }
  }
  // Chats that wait for nothing are forgotten.
  std::erase_if(last_action_, [&](const auto& entry) { return now - entry.second >= 2 * o_.chat_action_interval; });
}

net::awaitable<void> Bot::renew_chat_actions(std::vector<std::int64_t> chats) {
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{renewing_actions_};
  for (auto chat : chats) co_await chat_action(chat);
}

net::awaitable<void> Bot::chat_action(std::int64_t chat, bool force) {
  const auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = last_action_.try_emplace(chat, now);
  if (!fresh && !force && now - it->second < o_.chat_action_interval) co_return;
  it->second = now;
  if (!d_.scheduler.chat_action_allowed(chat)) co_return;  // a 429 holds the chat: dropped
  telegram::SendChatAction a{.chat_id = chat, .action = "upload_photo"};
  auto r = co_await d_.api.send_chat_action(std::move(a));
  if (r.ok()) co_return;
  if (r.error().kind == telegram::ApiError::Kind::rate_limited) {
    // Not retried (a late "sending photo…" is worth nothing), but the chat is held back as for a
    // message: Telegram's retry_after is about the chat, whatever the method.
    d_.scheduler.rate_limited(chat, r.error().retry_after.value_or(std::chrono::seconds(1)), false);
    co_return;
  }
  co_await note_blocked(chat, r.error());
}

void Bot::note_finished(std::chrono::steady_clock::time_point at) {
  finished_.push_back(at);
  while (finished_.size() > 256 || (!finished_.empty() && at - finished_.front() > std::chrono::seconds(60)))
    finished_.pop_front();
}

std::chrono::milliseconds Bot::predicted_wait(const core::Job& job, int position) const {
  // Messages ahead: those waiting for a turn now, plus a photo for each job queued ahead of this one.
  const bool queued = job.status == core::JobStatus::queued;
  const double ahead = static_cast<double>(d_.scheduler.backlog()) + (queued ? position : 0);
  const double rate = d_.scheduler.global_per_second();
  double seconds = rate > 0 ? ahead / rate : 0;
  // Generation: the queue position at the rate jobs were seen to finish lately (at least 3 within the
  // last minute; before that, only the send side is predicted).
  if (queued && finished_.size() >= 3) {
    const double span = std::chrono::duration<double>(finished_.back() - finished_.front()).count();
    if (span > 0) seconds = std::max(seconds, (position + 1) / ((finished_.size() - 1) / span));
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

net::awaitable<bool> Bot::maybe_status_message(const core::Job& job, JobMeta& meta, Shown& shown, int position) {
  if (meta.status_message_id != 0 || status_pending_.contains(meta.chat_id)) co_return false;
  // Another job of the same request (variations) may have one already.
  for (const auto& [id, other] : shown_) {
    if (other->chat == meta.chat_id && other->request == meta.reply_to && other->status_message != 0) {
      meta.status_message_id = shown.status_message = other->status_message;
      co_return false;
    }
  }
  const auto wait = predicted_wait(job, position);
  if (wait < o_.status_message_after) co_return false;
  // The budget: a GCRA cell of status_messages_per_second with a burst of status_message_burst.
  const auto now = std::chrono::steady_clock::now();
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / std::max(o_.status_messages_per_second, 1e-6)));
  if (status_tat_ - interval * std::max(o_.status_message_burst - 1, 0) > now) co_return false;
  status_tat_ = std::max(status_tat_, now) + interval;

  Ctx c{.chat_id = meta.chat_id, .group = meta.group, .lang = meta.lang};
  const auto seconds = std::to_string(std::max<std::int64_t>(1, (wait.count() + 999) / 1000));
  telegram::SendMessage m;
  if (job.status == core::JobStatus::queued) {
    const std::string shown_position = position >= core::kMaxQueuePosition
                                           ? std::to_string(core::kMaxQueuePosition) + "+"
                                           : std::to_string(position + 1);
    m.text = t(c, "status.long_queue", {{"position", shown_position}, {"seconds", seconds}});
    m.reply_markup = single_button(t(c, "status.cancel"), callback_data(CancelJobData{job.id}));
  } else {
    m.text = t(c, "status.long_send", {{"seconds", seconds}});
  }
  if (meta.reply_to != 0) m.reply_to_message_id = meta.reply_to;
  status_pending_.insert(meta.chat_id);
  struct Pending {
    Bot& bot;
    std::int64_t chat;
    ~Pending() { bot.status_pending_.erase(chat); }
  } pending{*this, meta.chat_id};
  auto sent = co_await send(meta.chat_id, meta.group, std::move(m), nullptr, telegram::Priority::high);
  if (!sent) co_return false;
  meta.status_message_id = shown.status_message = sent->message_id;
  shown.position = position;
  shown.last_edit = now;
  // Kept in memory only (Shown, and the meta this pass uses): a worker writing the whole job would
  // overwrite a meta stored now with the one it read. After a restart such a message stays in the
  // chat instead of being deleted with the photo.
  co_return true;
}

net::awaitable<void> Bot::deliver(core::Job job) {
  struct Done {
    Bot& bot;
    std::string id;
    ~Done() {
      bot.delivering_.erase(id);
      bot.recheck_.erase(id);
    }
  } done{*this, job.id};
  for (;;) {
    co_await deliver_state(job);
    if (!recheck_.erase(job.id)) co_return;
    if (core::is_terminal(job.status)) {
      // A terminal state does not change; a pass looked while it was being shown: let one look again
      // (it finds the job only if the outcome could not be shown yet).
      wake_delivery();
      co_return;
    }
    auto fresh = co_await generation_.find_job(job.id);
    if (!fresh) co_return;
    job = std::move(*fresh);
  }
}

net::awaitable<void> Bot::deliver_state(const core::Job& job) {
  auto meta = decode_meta(job.meta);
  auto mark_delivered = [this, id = job.id] { return state_.mark_delivered(id); };
  if (!meta) {
    spdlog::error("bot: job {} has no delivery data; skipped", job.id);
    co_await write_until_done(mark_delivered);
    co_return;
  }
  if (auto target = inline_target(job.meta); !target.empty()) {
    // Inline mode (src/bot/inline_delivery.cpp): the outcome goes into the inline message. An outage
    // waits and is tried again by a later pass, like a photo; a refusal is not retried.
    if (job.status == core::JobStatus::queued || job.status == core::JobStatus::running) co_return;
    telegram::Update no_update;
    Context ic(*this, no_update, Ctx{.chat_id = meta->chat_id, .lang = meta->lang}, Incoming{});
    auto done = co_await deliver_inline(ic, job, std::move(target));
    if (!done.new_file_id.empty()) {
      try {
        co_await state_.save_file_id(done.image_id, done.new_file_id);
      } catch (const core::InfrastructureError& e) {  // only a shortcut for sending it again: not needed
        if (!e.temporary()) throw;
        spdlog::warn("bot: the file id of image {} is not saved: {}", done.image_id, e.what());
      }
    }
    if (done.outcome == InlineDelivered::Outcome::retry) {
      auto& retry = shown_[job.id];
      if (!retry) retry = std::make_unique<Shown>(Shown{.chat = meta->chat_id});
      retry->retry = true;
      retry->last_edit = std::chrono::steady_clock::now();
      co_return;
    }
    if (done.outcome == InlineDelivered::Outcome::gave_up) {
      spdlog::error("bot: the outcome of inline job {} could not be shown", job.id);
    }
    if (!co_await write_until_done(mark_delivered)) co_return;
    shown_.erase(job.id);
    co_return;
  }
  auto& shown = shown_[job.id];
  if (!shown) {
    shown = std::make_unique<Shown>(
        Shown{.chat = meta->chat_id, .status_message = meta->status_message_id, .request = meta->reply_to});
  }
  // A status message sent by this process after the job was queued (the job's copy may lag behind).
  if (meta->status_message_id == 0) meta->status_message_id = shown->status_message;
  Ctx c{.chat_id = meta->chat_id, .group = meta->group, .lang = meta->lang};
  auto now = std::chrono::steady_clock::now();
  if (core::is_terminal(job.status) && !shown->finished_seen) {
    shown->finished_seen = true;
    note_finished(now);
  }
  if (job.status == core::JobStatus::running || (job.status == core::JobStatus::succeeded && !shown->retry)) {
    int position = 0;
    co_await maybe_status_message(job, *meta, *shown, position);
  }

  switch (job.status) {
    case core::JobStatus::queued: {
      int position = co_await generation_.queue_position(job);
      if (co_await maybe_status_message(job, *meta, *shown, position)) co_return;
      if (position == shown->position || meta->status_message_id == 0) co_return;
      if (shown->position >= 0 && now - shown->last_edit < o_.position_edit_interval) co_return;
      shown->position = position;
      shown->last_edit = now;
      // Positions are counted up to core::kMaxQueuePosition ahead: beyond that, "1000+".
      const std::string shown_position = position >= core::kMaxQueuePosition
                                             ? std::to_string(core::kMaxQueuePosition) + "+"
                                             : std::to_string(position + 1);
      telegram::EditMessageText e{
          .message_id = meta->status_message_id,
          .text = t(c, "status.queued", {{"position", shown_position}}),
          .reply_markup = single_button(t(c, "status.cancel"), callback_data(CancelJobData{job.id}))};
      co_await edit(c.chat_id, std::move(e));
      co_return;
    }
    case core::JobStatus::running: {
      if (shown->status != core::JobStatus::running && meta->status_message_id != 0) {
        shown->status = core::JobStatus::running;
        shown->last_edit = now;
        telegram::EditMessageText e{.message_id = meta->status_message_id, .text = t(c, "status.running")};
        co_await edit(c.chat_id, std::move(e));
      }
      co_await chat_action(c.chat_id);
      co_return;
    }
    case core::JobStatus::succeeded: {
      bool outage = false;
      if (!co_await deliver_photo(job, *meta, &outage)) {
        // Not sent: a blocked user is done with; anything else is tried again on a later pass. Only
        // refusals count towards giving up: while Telegram answers 502 or cannot be reached, the
        // photo waits at the same pace however long that lasts (a minute of 502s used up the five
        // attempts and lost the photo: faults_net_test).
        auto user = co_await accounts_.user(job.user_id);
        const bool blocked = user.ok() && user->blocked_bot;
        if (!blocked && !outage) ++shown->failed_sends;
        if (!blocked && shown->failed_sends < kMaxSendAttempts) {
          shown->retry = true;  // tried again by a later pass, after position_edit_interval
          shown->last_edit = now;
          co_return;
        }
        if (shown->failed_sends >= kMaxSendAttempts) {
          spdlog::error("bot: giving up on the photo of job {} after {} attempts", job.id, kMaxSendAttempts);
        }
        if (!co_await write_until_done(mark_delivered)) co_return;
        shown_.erase(job.id);
        co_return;
      }
      if (!co_await write_until_done(mark_delivered)) co_return;
      // The status message goes once no other job of the same request still reports to it.
      bool shared = false;
      for (const auto& [id, other] : shown_) {
        shared |= id != job.id && other->chat == meta->chat_id && other->status_message == meta->status_message_id;
      }
      shown_.erase(job.id);
      if (!shared && meta->status_message_id != 0) {
        co_await remove(c.chat_id, meta->status_message_id);
      }
      co_return;
    }
    case core::JobStatus::failed:
    case core::JobStatus::canceled: {
      std::string text =
          job.status == core::JobStatus::canceled
              ? t(c, job.quota_state == core::QuotaState::committed ? "status.canceled_counted" : "status.canceled")
              : t(c, std::string("failed.") +
                         core::to_string(core::reported_failure(job).value_or(core::FailureCode::unavailable)));
      bool ok = true;
      bool outage = false;
      if (meta->status_message_id != 0) {
        telegram::EditMessageText e{.message_id = meta->status_message_id, .text = std::move(text)};
        ok = co_await edit(c.chat_id, std::move(e), &outage);
      } else {  // no status message (a short wait): a reply to the prompt
        telegram::SendMessage m{.text = std::move(text)};
        if (meta->reply_to != 0) m.reply_to_message_id = meta->reply_to;
        auto sent = co_await send(c.chat_id, c.group, std::move(m), &outage);
        ok = sent.has_value();
      }
      // An edit or message that Telegram refused (message deleted by the user, bot blocked) is not
      // retried; one that met an outage (502, no connection) is, by a later pass, like a photo: the
      // outcome is not lost.
      if (!ok && outage) {
        shown->retry = true;
        shown->last_edit = now;
        co_return;
      }
      if (!co_await write_until_done(mark_delivered)) co_return;
      shown_.erase(job.id);
      co_return;
    }
  }
}

telegram::InlineKeyboardMarkup Bot::result_keyboard(const Ctx& c, const std::string& job_id) const {
  telegram::InlineKeyboardMarkup kb;
  kb.inline_keyboard.push_back(
      {{.text = t(c, "result.again"), .callback_data = callback_data(AgainData{job_id})},
       {.text = t(c, "result.variations"), .callback_data = callback_data(VariationsData{job_id})}});
  if (d_.assistant != nullptr) {
    kb.inline_keyboard.push_back(
        {{.text = t(c, "result.enhance"), .callback_data = callback_data(EnhanceData{job_id})}});
  }
  kb.inline_keyboard.push_back({{.text = t(c, "result.original"), .callback_data = callback_data(OriginalData{job_id})},
                                {.text = t(c, "result.settings"), .callback_data = callback_data(SettingsData{})}});
  return kb;
}

net::awaitable<std::optional<core::Image>> Bot::image_of(const core::Job& job) {
  auto image = co_await generation_.image_of(job);
  co_return image;
}

net::awaitable<bool> Bot::deliver_photo(const core::Job& job, const JobMeta& meta, bool* outage) {
  auto image = co_await image_of(job);
  if (!image) {
    spdlog::error("bot: job {} succeeded without a stored image", job.id);
    co_return false;
  }
  Ctx c{.chat_id = meta.chat_id, .group = meta.group, .lang = meta.lang};
  auto quota = co_await generation_.quota(job.user_id);
  const int remaining = quota.remaining();
  telegram::SendPhoto p{.chat_id = meta.chat_id};
  p.caption = util::utf8_shorten(t(c, "result.caption",
                                   {{"prompt", util::utf8_shorten(shown_prompt(meta, job.params.prompt), 200)},
                                    {"seed", job.params.seed ? std::to_string(*job.params.seed) : "?"},
                                    {"width", std::to_string(image->width)},
                                    {"height", std::to_string(image->height)},
                                    {"remaining", std::to_string(remaining)}}),
                                 1024);
  if (meta.reply_to != 0) p.reply_to_message_id = meta.reply_to;
  p.reply_markup = result_keyboard(c, job.id);
  // The bytes are read only when the scheduler grants the turn: a burst of waiting photos must not
  // hold every image in memory.
  const auto kind = meta.group ? ChatKind::group : ChatKind::private_chat;
  std::optional<telegram::ApiResult<telegram::Message>> sent;
  for (int attempt = 0;; ++attempt) {
    co_await d_.scheduler.acquire(p.chat_id, kind);
    if (image->telegram_file_id) {
      p.photo = telegram::InputFile::existing(*image->telegram_file_id);
    } else {
      auto bytes = co_await generation_.image_bytes(*image);
      if (!bytes) {
        spdlog::error("bot: image {} of job {} is missing from the image store", image->id, job.id);
        co_return false;
      }
      p.photo = telegram::InputFile::upload(job.id + ".png", image->mime, std::move(*bytes));
    }
    sent = co_await d_.api.send_photo(p);
    p.photo = {};
    if (!sent->ok() && sent->error().migrate_to_chat_id && *sent->error().migrate_to_chat_id != p.chat_id &&
        attempt < 10) {
      // The group became a supergroup: the photo goes there (and so does the rest of its jobs).
      const std::int64_t to = *sent->error().migrate_to_chat_id;
      co_await chat_moved(p.chat_id, to);
      p.chat_id = c.chat_id = to;
      p.reply_to_message_id.reset();
      continue;
    }
    if (sent->ok() || sent->error().kind != telegram::ApiError::Kind::rate_limited || attempt >= 10) break;
    d_.scheduler.rate_limited(p.chat_id, sent->error().retry_after.value_or(std::chrono::seconds(1)), false);
  }
  auto& r = *sent;
  if (!r.ok() && r.error().kind == telegram::ApiError::Kind::no_rights) {
    // The group forbids photos but takes text: say so there. The outcome counts as shown (sending the
    // photo again meets the same refusal); the user finds the picture in /history in a private chat.
    spdlog::info("bot: chat {} does not allow photos; job {} told in text", meta.chat_id, job.id);
    std::string text =
        t(c, "result.no_photo_rights", {{"prompt", util::utf8_shorten(shown_prompt(meta, job.params.prompt), 200)}});
    std::optional<std::int64_t> reply_to;
    if (meta.reply_to != 0 && c.chat_id == meta.chat_id) reply_to = meta.reply_to;
    auto told = co_await send_text(c, std::move(text), reply_to);
    co_return told.has_value();
  }
  if (!r.ok()) {
    if (outage) *outage = r.error().outage();
    co_await note_blocked(meta.chat_id, r.error());
    spdlog::warn("bot: sendPhoto for job {} failed: {} {}", job.id, telegram::to_string(r.error().kind),
                 r.error().description);
    co_return false;
  }
  if (!image->telegram_file_id && !r->photo.empty()) {
    // The largest size's file_id sends the same photo again without uploading it.
    auto file_id = r->photo.back().file_id;
    try {
      co_await state_.save_file_id(image->id, file_id);
    } catch (const core::InfrastructureError& e) {  // only a shortcut for sending it again: not needed
      if (!e.temporary()) throw;
      spdlog::warn("bot: the file id of image {} is not saved: {}", image->id, e.what());
    }
  }
  co_return true;
}

net::awaitable<void> Bot::deliver_original(const Ctx& c, const core::Job& job) {
  auto image = co_await image_of(job);
  if (!image) co_return;
  auto bytes = co_await generation_.image_bytes(*image);
  if (!bytes) co_return;
  auto ext = image->mime == "image/jpeg" ? ".jpg" : image->mime == "image/webp" ? ".webp" : ".png";
  telegram::SendDocument doc{.chat_id = c.chat_id,
                             .document = telegram::InputFile::upload(job.id + ext, image->mime, std::move(*bytes))};
  auto call = [&] { return d_.api.send_document(doc); };
  auto r = co_await d_.scheduler.send(c.chat_id, c.group ? ChatKind::group : ChatKind::private_chat, call);
  if (!r.ok()) co_await note_blocked(c.chat_id, r.error());
}

}  // namespace igb::bot
