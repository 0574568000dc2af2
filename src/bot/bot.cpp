#include "bot/bot.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/context.hpp"

namespace igb::bot {

using telegram::ApiError;
using telegram::ChatKind;

const std::vector<std::string>& allowed_updates() {
  static const std::vector<std::string> kAll{"message",      "edited_message", "callback_query",
                                             "pre_checkout_query", "my_chat_member", "inline_query",
                                             // Bot API 10.2; servers that do not know it ignore it
                                             "subscription"};
  return kAll;
}

std::int64_t chat_of(const telegram::Update& u) {
  if (u.message) return u.message->chat.id;
  if (u.edited_message) return u.edited_message->chat.id;
  if (u.callback_query) return u.callback_query->message ? u.callback_query->message->chat.id : u.callback_query->from.id;
  if (u.pre_checkout_query) return u.pre_checkout_query->from.id;
  if (u.my_chat_member) return u.my_chat_member->chat.id;
  if (u.inline_query) return u.inline_query->from.id;
  if (u.subscription) return u.subscription->user.id;
  return 0;
}

Bot::Bot(BotDeps deps, BotOptions options)
    : d_(std::move(deps)),
      o_(std::move(options)),
      inbox_wake_(d_.executor),
      delivery_wake_(d_.executor),
      notice_wake_(d_.executor),
      broadcast_wake_(d_.executor) {}

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
  auto mark = [&] { return d_.accounts.set_blocked_bot(chat, true); };
  auto status = co_await d_.pool.run(mark);
  (void)status;
  spdlog::info("bot: user {} blocked the bot; not sending to them any more", chat);
}

net::awaitable<std::optional<telegram::Message>> Bot::send(std::int64_t chat, bool group, telegram::SendMessage m,
                                                           bool* outage) {
  m.chat_id = chat;
  auto call = [&] { return d_.api.send_message(m); };
  auto r = co_await d_.scheduler.send(chat, group ? ChatKind::group : ChatKind::private_chat, call);
  if (r.ok()) co_return std::move(r).value();
  if (outage) *outage = r.error().outage();
  co_await note_blocked(chat, r.error());
  if (r.error().kind != ApiError::Kind::blocked) {
    spdlog::warn("bot: sendMessage to {} failed: {} {}", chat, telegram::to_string(r.error().kind), r.error().description);
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
  auto call = [&] { return d_.api.edit_message_text(m); };
  auto r = co_await with_429_retries(call);
  if (r.ok() || r.error().kind == ApiError::Kind::not_modified) co_return true;
  if (outage) *outage = r.error().outage();
  co_await note_blocked(chat, r.error());
  spdlog::warn("bot: editMessageText in {} failed: {} {}", chat, telegram::to_string(r.error().kind), r.error().description);
  co_return false;
}

net::awaitable<void> Bot::answer(std::string callback_id, std::string text, bool alert) {
  telegram::AnswerCallbackQuery a{.callback_query_id = std::move(callback_id), .text = std::move(text), .show_alert = alert};
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

net::awaitable<void> Bot::handle(telegram::Update u) {
  if (u.message) {
    const auto& m = *u.message;
    if (!m.from || m.from->is_bot) co_return;  // channel posts, other bots
    // Telegram has taken the Stars of a banned user too (a renewal is charged without asking): the
    // payment is recorded and credited like anyone's, so an admin's /refund finds it.
    const bool payment = m.successful_payment || m.refunded_payment;
    auto c = co_await Ctx::load(*this, *m.from, m.chat, payment);
    if (!c) co_return;
    co_await on_message(*c, m);
  } else if (u.callback_query) {
    const auto& q = *u.callback_query;
    telegram::Chat chat = q.message ? q.message->chat : telegram::Chat{.id = q.from.id, .type = "private"};
    auto c = co_await Ctx::load(*this, q.from, chat);
    if (!c) {
      co_await answer_silently(q.id);
      co_return;
    }
    co_await on_callback(*c, q);
  } else if (u.my_chat_member) {
    co_await on_my_chat_member(*u.my_chat_member);
  } else if (u.pre_checkout_query) {
    co_await on_pre_checkout(*u.pre_checkout_query);
  } else if (u.subscription) {
    co_await on_subscription_update(*u.subscription);
  }
  // edited_message, inline_query: nothing to do (edits are not new prompts).
}

net::awaitable<void> Bot::on_my_chat_member(const telegram::ChatMemberUpdated& u) {
  if (!u.chat.is_private()) co_return;
  bool blocked = u.new_status == "kicked";
  auto set = [&] { return d_.accounts.set_blocked_bot(u.from.id, blocked); };
  auto status = co_await d_.pool.run(set);
  (void)status;
}

net::awaitable<void> Bot::register_commands() {
  static const std::vector<std::string> kCommands{"start", "help", "me", "settings", "lang", "cancel", "history", "apikey",
                                                     "plans", "paysupport", "terms"};
  for (const auto& lang : d_.texts.languages()) {
    telegram::SetMyCommands s;
    for (const auto& cmd : kCommands) s.commands.push_back({cmd, d_.texts.text(lang, "commands." + cmd)});
    s.language_code = lang == "en" ? "" : lang;
    auto r = co_await d_.api.set_my_commands(std::move(s));
    if (!r.ok()) spdlog::warn("bot: setMyCommands ({}) failed: {}", lang, r.error().description);
  }
}

}  // namespace igb::bot
