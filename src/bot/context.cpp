#include "bot/context.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

namespace igb::bot {

std::string format_time(core::Timestamp t) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

net::awaitable<std::optional<Bot::Ctx>> Bot::Ctx::load(Bot& bot, telegram::User from, telegram::Chat chat,
                                                       bool even_banned) {
  // Writing to the bot again in a private chat means they unblocked it.
  auto username = from.username;
  auto language = from.language_code;
  bool created = false;
  auto user = co_await bot.accounts_.ensure_user(from.id, std::move(username), std::move(language), chat.is_private(),
                                                 &created);
  Ctx c{.user = user,
        .chat_id = chat.id,
        .group = chat.is_group(),
        .lang = bot.d_.texts.resolve(user.language.empty() ? from.language_code : user.language),
        .first_name = from.first_name,
        .first_contact = created};
  if (user.banned && !even_banned) co_return std::nullopt;
  co_return c;
}

Context::Context(Bot& bot, const telegram::Update& update, std::optional<Bot::Ctx> who, Incoming incoming)
    : bot_(bot),
      update_(update),
      who_(who ? std::move(*who) : Bot::Ctx{}),
      incoming_(std::move(incoming)),
      admin_({.admin = bot.d_.admin, .pool = bot.d_.pool}) {}

Context::~Context() = default;

const telegram::Message* Context::message() const { return update_.message ? &*update_.message : nullptr; }

const telegram::CallbackQuery* Context::callback() const {
  return update_.callback_query ? &*update_.callback_query : nullptr;
}

std::optional<std::int64_t> Context::message_id() const {
  if (const auto* m = message()) return m->message_id;
  if (const auto* q = callback(); q && q->message) return q->message->message_id;
  return std::nullopt;
}

std::optional<std::int64_t> Context::editable_message() const {
  const auto* q = callback();
  if (q && q->message && q->message->date != 0 && q->message->photo.empty() && q->message->document == std::nullopt) {
    return q->message->message_id;
  }
  return std::nullopt;
}

std::string Context::t(std::string_view key, const Args& args) const {
  return bot_.d_.texts.text(who_.lang, key, args);
}

net::awaitable<std::optional<telegram::Message>> Context::reply(std::string_view key) { return reply_text(t(key)); }

net::awaitable<std::optional<telegram::Message>> Context::reply(std::string_view key, const Args& args) {
  return reply_text(t(key, args));
}

net::awaitable<std::optional<telegram::Message>> Context::reply_text(std::string text,
                                                                     std::optional<std::int64_t> reply_to) {
  return bot_.send_text(who_, std::move(text), reply_to);
}

net::awaitable<std::optional<telegram::Message>> Context::reply_menu(std::string text,
                                                                     telegram::InlineKeyboardMarkup keyboard) {
  return bot_.send_menu(who_, std::move(text), std::move(keyboard));
}

net::awaitable<std::optional<telegram::Message>> Context::send(telegram::SendMessage m, bool* outage) {
  return bot_.send(who_.chat_id, who_.group, std::move(m), outage);
}

net::awaitable<bool> Context::edit(std::int64_t message_id, std::string text, telegram::InlineKeyboardMarkup keyboard) {
  telegram::EditMessageText e{.message_id = message_id, .text = std::move(text), .reply_markup = std::move(keyboard)};
  return bot_.edit(who_.chat_id, std::move(e));
}

net::awaitable<void> Context::answer_callback() { return answer_callback_text(std::string(), false); }

net::awaitable<void> Context::answer_callback(std::string_view key) { return answer_callback_text(t(key), false); }

net::awaitable<void> Context::answer_callback(std::string_view key, const Args& args, bool alert) {
  return answer_callback_text(t(key, args), alert);
}

net::awaitable<void> Context::answer_callback_text(std::string text, bool alert) {
  const auto* q = callback();
  if (!q || answered_) co_return;
  answered_ = true;
  co_await bot_.answer(q->id, std::move(text), alert);
}

usecases::Generation& Context::generation() { return bot_.generation_; }
usecases::Accounts& Context::accounts() { return bot_.accounts_; }
usecases::Billing& Context::billing() { return bot_.billing_; }
const BotDeps& Context::deps() const { return bot_.d_; }
const BotOptions& Context::options() const { return bot_.o_; }
void Context::wake_delivery() { bot_.wake_delivery(); }
net::awaitable<void> Context::acknowledge() { return bot_.chat_action(who_.chat_id, /*force=*/true); }
void Context::wake_broadcasts() { bot_.wake_broadcasts(); }
void Context::wake_notices() { bot_.wake_notices(); }

net::awaitable<std::optional<telegram::Message>> Context::send_to_user(std::int64_t user_id, std::string text) {
  telegram::SendMessage m{.text = std::move(text)};
  return bot_.send(user_id, false, std::move(m));
}

net::awaitable<bool> Context::deliver_photo(const core::Job& job, const JobMeta& meta) {
  return bot_.deliver_photo(job, meta);
}

net::awaitable<void> Context::deliver_original(const core::Job& job) { return bot_.deliver_original(who_, job); }

net::awaitable<bool> Context::send_notice(const core::Notice& n) { return bot_.send_notice(n); }

telegram::InlineKeyboardMarkup Context::plan_buttons() const { return bot_.plan_buttons(who_); }

}  // namespace igb::bot
