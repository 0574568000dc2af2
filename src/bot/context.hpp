#pragma once
// Private to the bot's sources: the update being handled, and the Context a handler gets.
#include "bot/bot.hpp"
#include "bot/router.hpp"
#include "usecases/bot_admin.hpp"

namespace igb::bot {

// "2026-11-26 14:00 UTC"
std::string format_time(core::Timestamp t);

// The /start payload of an /invite link: "ref_" and the inviter's code.
inline constexpr std::string_view kReferralStartPrefix = "ref_";

// Waits `d` on a timer of its own; false if canceled.
net::awaitable<bool> sleep_for(std::chrono::steady_clock::duration d);

// A write that records something already done outside (a photo sent, an update handled): while the
// database is out of reach (a temporary core::InfrastructureError) it is tried again every second
// instead of given up, or the thing would be done again once the database is back. False: shutting down.
net::awaitable<bool> write_until_done(std::function<net::awaitable<void>()> write);

// Calls a Bot API method that the scheduler does not meter (deletions), waiting out up to
// five 429s.
template <class F>
auto with_429_retries(F make_call) -> std::invoke_result_t<F> {
  auto r = co_await make_call();
  for (int i = 0; i < 5 && !r.ok() && r.error().kind == telegram::ApiError::Kind::rate_limited; ++i) {
    bool waited = co_await sleep_for(r.error().retry_after.value_or(std::chrono::seconds(1)));
    if (!waited) break;
    r = co_await make_call();
  }
  co_return r;
}

struct Bot::Ctx {
  core::User user;
  std::int64_t chat_id = 0;
  bool group = false;
  std::string lang = "en";
  std::string first_name;
  bool first_contact = false;  // this update made the user (a /start link's referral needs a new user)

  // Records the user (and what their client says about them); nullopt for a banned user.
  // Empty for a banned user, unless `even_banned` (their payments must still reach the ledger).
  static net::awaitable<std::optional<Ctx>> load(Bot& bot, telegram::User from, telegram::Chat chat,
                                                 bool even_banned = false);
};

struct Bot::Shown {
  std::int64_t chat = 0;
  std::int64_t status_message = 0;  // message ids are per chat
  std::int64_t request = 0;         // the prompt (reply_to): the jobs of one request share a status message
  core::JobStatus status = core::JobStatus::queued;
  int position = -1;
  bool retry = false;  // the outcome could not be shown; try again
  int failed_sends = 0;
  std::chrono::steady_clock::time_point last_edit{};
  bool finished_seen = false;  // counted in the measured jobs per second
};

// What a handler (src/bot/handlers/*.cpp) gets: who wrote and where, in which language, the update,
// and the ways to answer. Sending goes through the bot (the scheduler's limits, a 403 marks the
// user as having blocked the bot); texts are catalogue keys in the chat's language.
//
// GCC 12 cannot keep an initializer list or a non-trivial temporary alive across co_await: write
// `Args a{{"count", n}}; co_await c.reply("cancel.done", a);`, not the list inside the co_await.
class Context {
 public:
  // `who`: nullopt for updates that belong to no loaded user (pre-checkout, chat member, subscription).
  Context(Bot& bot, const telegram::Update& update, std::optional<Bot::Ctx> who, Incoming incoming);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Who and where
  core::User& user() { return who_.user; }
  const core::User& user() const { return who_.user; }
  std::int64_t chat_id() const { return who_.chat_id; }
  bool group() const { return who_.group; }
  const std::string& lang() const { return who_.lang; }
  void set_lang(std::string lang) { who_.lang = std::move(lang); }
  const std::string& first_name() const { return who_.first_name; }
  bool first_contact() const { return who_.first_contact; }

  // The update
  const telegram::Update& update() const { return update_; }
  const Incoming& incoming() const { return incoming_; }
  const telegram::Message* message() const;         // a message update
  const telegram::CallbackQuery* callback() const;  // a button press
  // A prompt's text, or a command's arguments (a deep link's payload for /start).
  const std::string& text() const { return incoming_.text; }
  std::string_view callback_data() const { return incoming_.callback_data; }
  // The message written (a message) or the message holding the button (a button).
  std::optional<std::int64_t> message_id() const;
  // The button's message if it is a text the bot sent (it can be edited in place; a photo cannot).
  std::optional<std::int64_t> editable_message() const;

  // Texts in the chat's language
  std::string t(std::string_view key, const Args& args = {}) const;

  // Answers in this chat. nullopt: not sent (blocked, refused; logged).
  net::awaitable<std::optional<telegram::Message>> reply(std::string_view key);
  net::awaitable<std::optional<telegram::Message>> reply(std::string_view key, const Args& args);
  net::awaitable<std::optional<telegram::Message>> reply_text(std::string text,
                                                              std::optional<std::int64_t> reply_to = std::nullopt);
  net::awaitable<std::optional<telegram::Message>> reply_menu(std::string text,
                                                              telegram::InlineKeyboardMarkup keyboard);
  // *outage (when given): not sent because Telegram or the way to it was down.
  net::awaitable<std::optional<telegram::Message>> send(telegram::SendMessage m, bool* outage = nullptr);
  // Edits one of the bot's messages in this chat; false if that failed.
  net::awaitable<bool> edit(std::int64_t message_id, std::string text, telegram::InlineKeyboardMarkup keyboard);
  // A button press is answered exactly once: the first answer counts, later ones are dropped, and a
  // handler that answers nothing gets a silent answer when it returns.
  // (Overloads, not default arguments: a default Args would be a temporary across the co_await.)
  net::awaitable<void> answer_callback();  // silently
  net::awaitable<void> answer_callback(std::string_view key);
  net::awaitable<void> answer_callback(std::string_view key, const Args& args, bool alert);
  net::awaitable<void> answer_callback_text(std::string text, bool alert = false);
  bool answered() const { return answered_; }

  // The use cases (src/usecases): each call owns its transaction and its hop to the blocking pool.
  usecases::Generation& generation();
  usecases::Accounts& accounts();
  usecases::Billing& billing();
  usecases::Admin& admin() { return admin_; }

  // The rest of the bot: its services and settings, and what handlers share with delivery.
  const BotDeps& deps() const;
  const BotOptions& options() const;
  void wake_delivery();
  void wake_broadcasts();
  void wake_notices();  // the notices pass runs now (the spend alert after a spend_paused refusal)
  // "sending photo…" in this chat now (a prompt taken): no message, no wait (Bot::chat_action).
  net::awaitable<void> acknowledge();
  // To a user in their private chat, not this one (a grant's notice).
  net::awaitable<std::optional<telegram::Message>> send_to_user(std::int64_t user_id, std::string text);
  net::awaitable<bool> deliver_photo(const core::Job& job, const JobMeta& meta);
  net::awaitable<void> deliver_original(const core::Job& job);
  net::awaitable<bool> send_notice(const core::Notice& n);
  telegram::InlineKeyboardMarkup plan_buttons() const;

 private:
  Bot& bot_;
  const telegram::Update& update_;
  Bot::Ctx who_;
  Incoming incoming_;
  bool answered_ = false;
  usecases::Admin admin_;
};

}  // namespace igb::bot
