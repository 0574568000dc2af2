#pragma once
// The Telegram bot: receives updates into a durable inbox (long polling or webhook), handles each
// chat's updates in order and different chats concurrently, turns prompts into generation jobs, and
// shows each job's progress and outcome in its chat. Business rules stay in the core services; this
// is the driver that speaks to users.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "assist/prompt_assistant.hpp"
#include "bot/billing.hpp"
#include "bot/callback_data.hpp"
#include "bot/job_meta.hpp"
#include "bot/i18n.hpp"
#include "bot/prompt_options.hpp"
#include "bot/router.hpp"
#include "core/accounts.hpp"
#include "core/admin.hpp"
#include "core/jobs.hpp"
#include "core/notices.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"
#include "core/quota.hpp"
#include "core/store.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/supervisor.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/scheduler.hpp"
#include "usecases/accounts.hpp"
#include "usecases/billing.hpp"
#include "usecases/bot_state.hpp"
#include "usecases/generation.hpp"

namespace igb::bot {

namespace net = boost::asio;

struct BotOptions {
  std::string bot_username;  // without '@', from getMe; for mentions in groups
  PromptLimits prompt_limits;
  std::chrono::milliseconds delivery_poll{300};  // how often to look for job changes
  std::chrono::milliseconds inbox_poll{1000};    // how often to look for updates others stored
  std::chrono::seconds position_edit_interval{15};  // a queued job's position is refreshed at most this often
  // "sending photo…" (sendChatAction) lasts 5 s or less in clients (Bot API): renewed this often while a
  // user waits for a picture.
  std::chrono::milliseconds chat_action_interval{4500};
  // A prompt is acknowledged with a chat action only; a status message (position, cancel button) goes
  // only to a user whose wait is predicted beyond `status_message_after`, and status messages spend at
  // most `status_messages_per_second` (after a burst of `status_message_burst`) of Telegram's 30 a second
  // (docs/architecture.md, "Under a crowd").
  std::chrono::milliseconds status_message_after{30'000};
  double status_messages_per_second = 1.5;
  int status_message_burst = 30;
  int history_size = 5;
  std::vector<std::int64_t> admin_ids;           // ADMIN_TELEGRAM_IDS: who may use /stats, /grant, …
  std::chrono::milliseconds notice_poll{60'000};  // how often to look for notices due
  std::chrono::milliseconds broadcast_poll{5'000};  // how often to look for a broadcast to send
  double broadcast_per_second = 20;  // under the scheduler's 30/s, so users' own messages still go out
};

// Updates of every kind the bot handles (getUpdates' and setWebhook's allowed_updates).
const std::vector<std::string>& allowed_updates();
// The chat whose order an update belongs to (0 if none).
std::int64_t chat_of(const telegram::Update& update);
// A stored update (its JSON) that Telegram waits for an answer to against a deadline: a pre-checkout
// query (10 seconds, or the payment fails). The inbox handles these at once, outside their chat's order.
bool answers_against_the_clock(std::string_view body);

// A polling loop's pause that others can cut short: wake() ends the wait in progress, or, while the
// loop is busy, makes its next wait return at once, so a wake is never lost.
class Wakeup {
 public:
  explicit Wakeup(const net::any_io_executor& executor) : timer_(executor) {}
  void wake() {
    woken_ = true;
    timer_.cancel();
  }
  // Waits up to `d` unless woken since the last wait; false once the calling coroutine is canceled.
  net::awaitable<bool> wait(std::chrono::steady_clock::duration d);

 private:
  net::steady_timer timer_;
  bool woken_ = false;
};

struct BotDeps {
  net::any_io_executor executor;  // runs the bot (one thread at a time: the Bot API client is not thread-safe)
  telegram::BotApi& api;
  telegram::SendScheduler& scheduler;
  core::Store& store;
  core::AccountService& accounts;
  core::QuotaService& quota;
  core::JobService& jobs;
  const core::PlanCatalog& plans;
  imaging::ImageStore& images;
  runtime::BlockingPool& pool;
  runtime::Supervisor& supervisor;
  const core::Clock& clock;
  const Catalogs& texts;
  core::PaymentService& payments;
  StarsBilling& billing;
  core::AdminService& admin;
  core::NoticeService& notices;
  std::function<void()> job_queued;  // wakes this process's workers, if any
  // The group commit prompts are submitted through (the API's, when both run; null: the bot's own).
  std::shared_ptr<usecases::SubmitBatcher> submits;
  // The prompt assistant (PROMPT_ASSISTANT_MODEL): translates non-English prompts and enriches them
  // for the Enhance button; null: off (no translation, no button).
  assist::PromptAssistant* assistant = nullptr;
};

class Bot {
 public:
  Bot(BotDeps deps, BotOptions options);
  ~Bot();

  // Learns the bot's username (getMe, retried until Telegram answers), registers the commands, then
  // sets the webhook (`webhook_url` not empty; updates then arrive through the HTTP route) or runs
  // long polling until canceled.
  net::awaitable<void> run_receiving(std::string webhook_url, std::string secret);
  // Long polling: getUpdates into the inbox (the offset is stored with the updates), until canceled.
  net::awaitable<void> run_polling();
  // Handles the inbox: each chat in order, chats concurrently; an update is deleted once handled
  // (or once its handler failed: it is logged and skipped, never retried forever).
  net::awaitable<void> run_inbox();
  // Shows job progress and outcomes in their chats.
  net::awaitable<void> run_delivery();
  // Sends the notices that are due (subscription ends, quota used), each once.
  net::awaitable<void> run_notices();
  // Sends queued broadcasts, resuming after the last user handled.
  net::awaitable<void> run_broadcasts();
  // Registers the bot's commands in every language (setMyCommands).
  net::awaitable<void> register_commands();

  // Both must be called on the bot's executor.
  void wake_inbox();
  void wake_delivery();
  void wake_notices();
  void wake_broadcasts();

  // One update, now (tests and the inbox loop).
  net::awaitable<void> handle(telegram::Update update);

 private:
  friend class Context;  // a handler's view of the bot (src/bot/context.hpp)
  struct Ctx;  // the update being handled: who, where, in which language (src/bot/context.hpp)
  struct Shown;  // what a job's status message shows now

  // Sending: through the scheduler; a 403 marks the user as having blocked the bot.
  // Pass named values: GCC 12 cannot keep initializer lists or non-trivial temporaries of a co_await
  // expression (compile error or double destruction).
  net::awaitable<std::optional<telegram::Message>> send_text(const Ctx& c, std::string text,
                                                             std::optional<std::int64_t> reply_to = std::nullopt);
  net::awaitable<std::optional<telegram::Message>> send_menu(const Ctx& c, std::string text,
                                                             telegram::InlineKeyboardMarkup keyboard);
  // *outage (when given): not sent because Telegram or the way to it was down (network error, 5xx).
  net::awaitable<std::optional<telegram::Message>> send(std::int64_t chat, bool group, telegram::SendMessage m,
                                                        bool* outage = nullptr,
                                                        telegram::Priority priority = telegram::Priority::normal);
  // Edits go through the scheduler like messages (Telegram counts them against the same limits).
  // Deletions are not metered; their 429 is waited out and retried.
  // *outage (when given): it failed because Telegram or the way to it was down (network error, 5xx).
  net::awaitable<bool> edit(std::int64_t chat, telegram::EditMessageText m, bool* outage = nullptr);
  net::awaitable<void> remove(std::int64_t chat, std::int64_t message_id);
  net::awaitable<void> answer(std::string callback_id, std::string text, bool alert = false);
  net::awaitable<void> answer_silently(std::string callback_id);
  net::awaitable<void> note_blocked(std::int64_t chat, const telegram::ApiError& error);
  // A group became a supergroup (`to`, from a service message or a 400's migrate_to_chat_id): its
  // undelivered jobs go to `to`, in the database and in what delivery holds. Messages stay behind in
  // the old chat, so the jobs lose their status message and reply target there.
  net::awaitable<void> chat_moved(std::int64_t from, std::int64_t to);

  // Admins (ADMIN_TELEGRAM_IDS) use their commands in their private chat only.
  bool is_admin(std::int64_t user_id, bool group) const;
  // Notices and broadcasts (src/bot/notices.cpp)
  net::awaitable<void> notice_pass();
  net::awaitable<bool> send_notice(const core::Notice& n);
  net::awaitable<void> alert_spend();  // DAILY_SPEND_LIMIT_USD reached: the admins, once a day
  net::awaitable<bool> broadcast_step();
  // Shared by handlers, delivery and notices (src/bot/keyboards.cpp; result_keyboard: delivery.cpp)
  telegram::InlineKeyboardMarkup plan_buttons(const Ctx& c) const;
  telegram::InlineKeyboardMarkup result_keyboard(const Ctx& c, const std::string& job_id) const;
  std::string t(const Ctx& c, std::string_view key, const Args& args = {}) const;

  // Delivery (src/bot/delivery.cpp)
  // "sending photo…" in the chat, unless one went less than chat_action_interval ago or a 429 holds
  // the chat; never waits for a message's turn, dropped rather than queued.
  // `force`: a new prompt's acknowledgement, sent whenever the last one went.
  net::awaitable<void> chat_action(std::int64_t chat, bool force = false);
  // Renews the chat action of every chat that waits for a picture (run by deliver_pass, one at a time).
  net::awaitable<void> renew_chat_actions(std::vector<std::int64_t> chats);
  // The predicted wait of a job not yet delivered: messages ahead at Telegram's rate, or its queue
  // position at the jobs-per-second measured lately, whichever is longer.
  std::chrono::milliseconds predicted_wait(const core::Job& job, int position) const;
  // Sends a status message for a long predicted wait (within the status budget); true if it did.
  net::awaitable<bool> maybe_status_message(const core::Job& job, JobMeta& meta, Shown& shown, int position);
  void note_finished(std::chrono::steady_clock::time_point at);
  net::awaitable<void> deliver_pass();
  // Shows the job's state; if it changed meanwhile (recheck_), reads it again and shows that.
  net::awaitable<void> deliver(core::Job job);
  net::awaitable<void> deliver_state(const core::Job& job);
  // Sends the job's image as a photo (by file_id once Telegram has it) with its caption and buttons.
  // false: not sent; *outage (when given) says whether because Telegram or the way to it was down
  // (network error or 5xx), which says nothing about this photo.
  net::awaitable<bool> deliver_photo(const core::Job& job, const JobMeta& meta, bool* outage = nullptr);
  net::awaitable<void> deliver_original(const Ctx& c, const core::Job& job);
  net::awaitable<std::optional<core::Image>> image_of(const core::Job& job);

  // Inbox (src/bot/inbox.cpp)
  net::awaitable<void> drain_chat(std::int64_t chat);
  // Handles one stored update (again while the database is out of reach) and deletes it from the
  // inbox; false: shutting down.
  net::awaitable<bool> handle_stored(core::InboxUpdate row);
  // One stored update outside any chat's order (answers_against_the_clock).
  net::awaitable<void> handle_alone(core::InboxUpdate row);

  BotDeps d_;
  BotOptions o_;
  // The use cases (src/usecases) over d_'s services: each owns its transaction and its hop to d_.pool.
  usecases::Generation generation_{{.jobs = d_.jobs,
                                    .quota = d_.quota,
                                    .store = d_.store,
                                    .pool = d_.pool,
                                    .images = d_.images,
                                    .submits = d_.submits}};
  usecases::Accounts accounts_{{.accounts = d_.accounts,
                                .quota = d_.quota,
                                .store = d_.store,
                                .pool = d_.pool,
                                .referral_bonus_images = d_.jobs.options().referral_bonus_images}};
  usecases::BotState state_{{.store = d_.store, .pool = d_.pool, .clock = d_.clock, .notices = &d_.notices}};
  usecases::Billing billing_{{.payments = d_.payments,
                              .notices = &d_.notices,
                              .plans = d_.plans,
                              .store = d_.store,
                              .pool = d_.pool,
                              .gateway = &d_.billing.gateway()}};
  Wakeup inbox_wake_;
  Wakeup delivery_wake_;
  Wakeup notice_wake_;
  Wakeup broadcast_wake_;
  std::optional<core::Timestamp> images_since_;  // quota notices: images finished before this were looked at
  std::int64_t inbox_watermark_ = 0;               // highest update id dispatched
  std::map<std::int64_t, std::deque<core::InboxUpdate>> chats_;  // chats with updates in hand
  core::Timestamp delivery_since_{};               // job changes older than this were handled
  std::map<std::string, std::unique_ptr<Shown>> shown_;  // bot jobs in flight
  std::set<std::string> delivering_;
  std::set<std::string> recheck_;
  std::map<std::int64_t, std::chrono::steady_clock::time_point> last_action_;  // chats: last chat action
  bool renewing_actions_ = false;
  std::deque<std::chrono::steady_clock::time_point> finished_;  // when recent jobs were seen finished
  std::chrono::steady_clock::time_point status_tat_{};          // the status budget (GCRA)
  std::set<std::int64_t> status_pending_;                       // chats whose status message is being sent
  Router router_;  // the handlers (src/bot/handlers/*.cpp), registered at construction
};

}  // namespace igb::bot
