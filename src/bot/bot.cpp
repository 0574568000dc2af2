#include "bot/bot.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "bot/context.hpp"
#include "bot/handlers.hpp"
#include "bot/inline_mode.hpp"

namespace igb::bot {

using telegram::ApiError;
using telegram::ChatKind;

const std::vector<std::string>& allowed_updates() {
  static const std::vector<std::string> kAll{"message", "edited_message", "callback_query", "pre_checkout_query",
                                             "my_chat_member", "inline_query", "chosen_inline_result",
                                             // Bot API 10.2; servers that do not know it ignore it
                                             "subscription"};
  return kAll;
}

std::int64_t chat_of(const telegram::Update& u) {
  if (u.message) return u.message->chat.id;
  if (u.edited_message) return u.edited_message->chat.id;
  if (u.callback_query)
    return u.callback_query->message ? u.callback_query->message->chat.id : u.callback_query->from.id;
  if (u.pre_checkout_query) return u.pre_checkout_query->from.id;
  if (u.my_chat_member) return u.my_chat_member->chat.id;
  if (u.inline_query) return u.inline_query->from.id;
  if (u.chosen_inline_result) return u.chosen_inline_result->from.id;
  if (u.subscription) return u.subscription->user.id;
  return 0;
}

Bot::Bot(BotDeps deps, BotOptions options)
    : d_(std::move(deps)),
      o_(std::move(options)),
      inbox_wake_(d_.executor),
      delivery_wake_(d_.executor),
      notice_wake_(d_.executor),
      broadcast_wake_(d_.executor) {
  register_handlers(router_);
}

Bot::~Bot() = default;

namespace {

// Waits `d`, or less if the timer is canceled. False once the calling coroutine is canceled.
net::awaitable<bool> wait_on(net::steady_timer& timer, std::chrono::steady_clock::duration d) {
  timer.expires_after(d);
  boost::system::error_code ec;
  co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  auto cs = co_await net::this_coro::cancellation_state;
  co_return cs.cancelled() == net::cancellation_type::none;
}

}  // namespace

net::awaitable<bool> Wakeup::wait(std::chrono::steady_clock::duration d) {
  if (woken_) d = std::chrono::steady_clock::duration::zero();
  bool go_on = co_await wait_on(timer_, d);
  woken_ = false;
  co_return go_on;
}

net::awaitable<bool> sleep_for(std::chrono::steady_clock::duration d) {
  net::steady_timer timer(co_await net::this_coro::executor);
  bool go_on = co_await wait_on(timer, d);
  co_return go_on;
}

net::awaitable<bool> write_until_done(std::function<net::awaitable<void>()> write) {
  for (;;) {
    // (No co_return inside the try block: GCC 12 miscompiles it here, SIGILL under -O1.)
    bool written = true;
    try {
      co_await write();
    } catch (const core::InfrastructureError& e) {
      if (!e.temporary()) throw;
      written = false;
    }
    if (written) co_return true;
    if (!co_await sleep_for(std::chrono::seconds(1))) co_return false;
  }
}

std::string Bot::t(const Ctx& c, std::string_view key, const Args& args) const {
  return d_.texts.text(c.lang, key, args);
}

void Bot::wake_inbox() { inbox_wake_.wake(); }
void Bot::wake_delivery() { delivery_wake_.wake(); }
void Bot::wake_notices() { notice_wake_.wake(); }
void Bot::wake_broadcasts() { broadcast_wake_.wake(); }

net::awaitable<void> Bot::note_blocked(std::int64_t chat, const ApiError& error) {
  if (error.kind != ApiError::Kind::blocked || chat <= 0) co_return;
  // A private chat's id is the user's id.
  auto status = co_await accounts_.set_blocked_bot(chat, true);
  (void)status;
  spdlog::info("bot: user {} blocked the bot; not sending to them any more", chat);
}

net::awaitable<void> Bot::chat_moved(std::int64_t from, std::int64_t to) {
  if (from == to || to == 0) co_return;
  std::function<std::optional<std::string>(const core::Job&)> rewrite =
      [from, to](const core::Job& job) -> std::optional<std::string> {
    auto meta = decode_meta(job.meta);
    if (!meta || meta->chat_id != from) return std::nullopt;
    meta->chat_id = to;
    meta->status_message_id = 0;  // message ids are per chat: those messages stay in the old group
    meta->reply_to = 0;
    meta->group = true;
    return encode_meta(*meta);
  };
  int moved = co_await state_.move_jobs(rewrite);
  // The chat action goes on from the supergroup when it is due (members see the same conversation).
  if (auto it = last_action_.find(from); it != last_action_.end()) last_action_.try_emplace(to, it->second);
  for (auto& [id, shown] : shown_) {
    if (shown->chat != from) continue;
    shown->chat = to;
    shown->status_message = 0;
  }
  spdlog::info("bot: group {} is now supergroup {}; {} undelivered job(s) follow it", from, to, moved);
  wake_delivery();
}

net::awaitable<std::optional<telegram::Message>> Bot::send(std::int64_t chat, bool group, telegram::SendMessage m,
                                                           bool* outage, telegram::Priority priority) {
  m.chat_id = chat;
  auto call = [&] { return d_.api.send_message(m); };
  auto r = co_await d_.scheduler.send(chat, group ? ChatKind::group : ChatKind::private_chat, call, priority);
  if (!r.ok() && r.error().migrate_to_chat_id && *r.error().migrate_to_chat_id != chat) {
    // "group chat was upgraded to a supergroup chat": the same message goes to the supergroup.
    const std::int64_t to = *r.error().migrate_to_chat_id;
    co_await chat_moved(chat, to);
    chat = to;
    m.chat_id = to;
    m.reply_to_message_id.reset();  // the message replied to stays in the old group
    r = co_await d_.scheduler.send(chat, ChatKind::group, call, priority);
  }
  if (r.ok()) co_return std::move(r).value();
  if (outage) *outage = r.error().outage();
  co_await note_blocked(chat, r.error());
  if (r.error().kind != ApiError::Kind::blocked) {
    spdlog::warn("bot: sendMessage to {} failed: {} {}", chat, telegram::to_string(r.error().kind),
                 r.error().description);
  }
  co_return std::nullopt;
}

net::awaitable<std::optional<telegram::Message>> Bot::send_text(const Ctx& c, std::string text,
                                                                std::optional<std::int64_t> reply_to) {
  telegram::SendMessage m{.text = std::move(text), .reply_to_message_id = reply_to};
  auto sent = co_await send(c.chat_id, c.group, std::move(m));
  co_return sent;
}

net::awaitable<std::optional<telegram::Message>> Bot::send_menu(const Ctx& c, std::string text,
                                                                telegram::InlineKeyboardMarkup keyboard) {
  telegram::SendMessage m{.text = std::move(text), .reply_markup = std::move(keyboard)};
  auto sent = co_await send(c.chat_id, c.group, std::move(m));
  co_return sent;
}

net::awaitable<bool> Bot::edit(std::int64_t chat, telegram::EditMessageText m, bool* outage) {
  m.chat_id = chat;
  // Paced like messages (Telegram counts edits against the same limits). Groups and supergroups have
  // negative ids, private chats the user's (positive) id.
  const auto kind = chat < 0 ? ChatKind::group : ChatKind::private_chat;
  std::optional<telegram::ApiResult<telegram::Message>> sent;
  for (int attempt = 0;; ++attempt) {
    co_await d_.scheduler.acquire(chat, kind);
    sent = co_await d_.api.edit_message_text(m);
    if (sent->ok() || sent->error().kind != ApiError::Kind::rate_limited || attempt >= 10) break;
    d_.scheduler.rate_limited(chat, sent->error().retry_after.value_or(std::chrono::seconds(1)), false);
  }
  auto& r = *sent;
  if (r.ok() || r.error().kind == ApiError::Kind::not_modified) co_return true;
  if (r.error().migrate_to_chat_id && *r.error().migrate_to_chat_id != chat) {
    // The message stays in the old group and cannot be edited from the supergroup: the caller tries
    // again later (as after an outage), from the moved job, which then sends its outcome anew.
    co_await chat_moved(chat, *r.error().migrate_to_chat_id);
    if (outage) *outage = true;
    co_return false;
  }
  if (outage) *outage = r.error().outage();
  co_await note_blocked(chat, r.error());
  spdlog::warn("bot: editMessageText in {} failed: {} {}", chat, telegram::to_string(r.error().kind),
               r.error().description);
  co_return false;
}

net::awaitable<void> Bot::answer(std::string callback_id, std::string text, bool alert) {
  telegram::AnswerCallbackQuery a{
      .callback_query_id = std::move(callback_id), .text = std::move(text), .show_alert = alert};
  auto r = co_await d_.api.answer_callback_query(std::move(a));
  if (!r.ok()) spdlog::debug("bot: answerCallbackQuery failed: {}", r.error().description);
}

net::awaitable<void> Bot::remove(std::int64_t chat, std::int64_t message_id) {
  telegram::DeleteMessage del{.chat_id = chat, .message_id = message_id};
  auto call = [&] { return d_.api.delete_message(del); };
  auto r = co_await with_429_retries(call);
  if (!r.ok()) spdlog::debug("bot: deleteMessage in {} failed: {}", chat, r.error().description);
}

net::awaitable<void> Bot::answer_silently(std::string callback_id) {
  std::string none;
  co_await answer(std::move(callback_id), std::move(none));
}

bool Bot::is_admin(std::int64_t user_id, bool group) const {
  return !group && std::find(o_.admin_ids.begin(), o_.admin_ids.end(), user_id) != o_.admin_ids.end();
}

// Reads what the update is, loads who sent it (a banned user's updates stop here, except their
// payments), and runs the first handler registered for it (src/bot/handlers/). A button press is
// answered exactly once, if need be silently when its handler did not.
net::awaitable<void> Bot::handle(telegram::Update u) {
  if (u.message) {
    const auto& m = *u.message;
    if (m.migrate_to_chat_id) {  // in the old group: it is now a supergroup with this id
      co_await chat_moved(m.chat.id, *m.migrate_to_chat_id);
      co_return;
    }
    if (!m.from || m.from->is_bot) co_return;  // channel posts, other bots
    // Telegram has taken the Stars of a banned user too (a renewal is charged without asking): the
    // payment is recorded and credited like anyone's, so an admin's /refund finds it.
    const bool payment = m.successful_payment || m.refunded_payment;
    auto who = co_await Ctx::load(*this, *m.from, m.chat, payment);
    if (!who) co_return;
    Incoming in{.group = who->group, .admin = is_admin(who->user.id, who->group)};
    if (m.successful_payment) {
      in.kind = UpdateKind::successful_payment;
    } else if (m.refunded_payment) {
      in.kind = UpdateKind::refunded_payment;
    } else {
      if (who->user.banned) co_return;  // loaded only for the payments above
      const bool reply_to_bot =
          m.reply_to_message && m.reply_to_message->from && m.reply_to_message->from->username == o_.bot_username;
      auto view = read_message(m.text, who->group, o_.bot_username, reply_to_bot);
      if (!view) co_return;  // not addressed to this bot
      in.kind = view->kind;
      in.command = std::move(view->command);
      in.text = std::move(view->text);
    }
    Context c(*this, u, std::move(who), std::move(in));
    if (const auto* route = router_.match(c.incoming())) co_await route->run(c);
  } else if (u.callback_query) {
    const auto& q = *u.callback_query;
    telegram::Chat chat = q.message ? q.message->chat : telegram::Chat{.id = q.from.id, .type = "private"};
    auto who = co_await Ctx::load(*this, q.from, chat);
    if (!who) {
      co_await answer_silently(q.id);
      co_return;
    }
    Incoming in{.kind = UpdateKind::callback,
                .group = who->group,
                .admin = is_admin(who->user.id, who->group),
                .callback_data = q.data};
    Context c(*this, u, std::move(who), std::move(in));
    if (const auto* route = router_.match(c.incoming())) co_await route->run(c);
    if (!c.answered()) co_await c.answer_callback();
  } else if (u.my_chat_member || u.pre_checkout_query || u.subscription) {
    // No user is loaded for these: the handler reads what it needs from the update.
    Incoming in{.kind = u.my_chat_member       ? UpdateKind::my_chat_member
                        : u.pre_checkout_query ? UpdateKind::pre_checkout_query
                                               : UpdateKind::subscription};
    Context c(*this, u, std::nullopt, std::move(in));
    if (const auto* route = router_.match(c.incoming())) co_await route->run(c);
  } else if (u.inline_query || u.chosen_inline_result) {
    // Inline mode has no chat: the user is loaded (and recorded) as the sender, which does not count
    // as writing to the bot in private (a user who blocked the bot stays marked).
    const auto& from = u.inline_query ? u.inline_query->from : u.chosen_inline_result->from;
    if (from.is_bot) co_return;
    telegram::Chat sender{.id = from.id, .type = "sender"};
    auto who = co_await Ctx::load(*this, from, sender);
    if (!who) co_return;  // banned: no answer, Telegram shows no results
    // Not routed: the router's filters are about chats (src/bot/inline_mode.cpp).
    Context c(*this, u, std::move(who), Incoming{});
    if (u.inline_query) {
      co_await answer_inline_query(c);
    } else {
      co_await start_inline_generation(c);
    }
  }
  // edited_message: nothing to do (edits are not new prompts).
}

// setMyCommands from the registrations: everyone's commands in each language (English is the
// default for languages without a catalogue), and for each admin a menu scoped to their private chat
// with their commands added (a chat's menu replaces the default one there, so it lists both).
net::awaitable<void> Bot::register_commands() {
  auto menu_of = [this](const std::string& lang, bool admin) {
    std::vector<telegram::BotCommand> out;
    for (const auto& m : router_.menu(admin)) out.push_back({m.command, d_.texts.text(lang, m.description_key)});
    return out;
  };
  for (const auto& lang : d_.texts.languages()) {
    telegram::SetMyCommands s{.commands = menu_of(lang, false), .language_code = lang == "en" ? "" : lang};
    auto r = co_await d_.api.set_my_commands(std::move(s));
    if (!r.ok()) spdlog::warn("bot: setMyCommands ({}) failed: {}", lang, r.error().description);
  }
  for (auto admin : o_.admin_ids) {
    for (const auto& lang : d_.texts.languages()) {
      telegram::SetMyCommands s{
          .commands = menu_of(lang, true), .language_code = lang == "en" ? "" : lang, .scope_chat_id = admin};
      auto r = co_await d_.api.set_my_commands(std::move(s));
      // Telegram answers "chat not found" until the admin has written to the bot once.
      if (!r.ok()) spdlog::warn("bot: setMyCommands for admin {} ({}) failed: {}", admin, lang, r.error().description);
    }
  }
}

}  // namespace igb::bot
