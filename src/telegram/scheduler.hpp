#pragma once
// Keeps outgoing Bot API calls under Telegram's limits so that 429s are rare, and loses nothing when
// one comes: about 30 messages a second overall, one a second per chat (short bursts allowed), 20 a
// minute per group. Edits count like messages (Telegram's developers: "the limits for message editing
// are the same as for message sending … They share the limit", tdlib/td issue #2592). A caller waits
// for its turn, makes the call, and on a 429 waits retry_after (holding back that chat, or everyone
// when Telegram throttles the bot as a whole) and calls again.
//
//   auto sent = co_await scheduler.send(chat_id, ChatKind::private_chat,
//                                      [&] { return api.send_message(options); });
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "telegram/bot_api.hpp"

namespace igb::telegram {

enum class ChatKind { private_chat, group };
// Among messages that every limit allows, `high` ones go before `normal` ones (each in arrival order):
// a status message telling a user their wait is long must not queue behind the photos it announces.
enum class Priority { normal, high };

struct SchedulerOptions {
  double global_per_second = 30;  // all chats together
  double chat_per_second = 1;  // one private chat, sustained
  int chat_burst = 3;  // one private chat, back to back
  int group_per_minute = 20;  // one group
  int max_rate_limit_retries = 10;  // 429s in a row before the call's error is returned
};

class SendScheduler {
 public:
  // One executor (a strand or a one-thread io_context) runs every call of this scheduler.
  SendScheduler(net::any_io_executor executor, SchedulerOptions options);
  ~SendScheduler();
  SendScheduler(const SendScheduler&) = delete;
  SendScheduler& operator=(const SendScheduler&) = delete;

  // Waits until one message to `chat_id` may go out under every limit, and takes it. Callers of one
  // chat are served in the order they called (FIFO per chat).
  net::awaitable<void> acquire(std::int64_t chat_id, ChatKind kind, Priority priority = Priority::normal);
  // Telegram answered 429 for this chat: nothing more goes to it before `retry_after` has passed;
  // with `global`, nothing goes to anyone.
  void rate_limited(std::int64_t chat_id, std::chrono::seconds retry_after, bool global);
  // Calls answered with 429, counted since start (for the benchmark and metrics).
  std::int64_t rate_limited_count() const;
  // Messages waiting for their turn now (all chats): what a new message would queue behind.
  std::size_t backlog() const;
  double global_per_second() const;
  // Chat actions ("uploading photo…") are not messages: they take no turn and never wait. One may go
  // to `chat_id` now unless a 429 holds that chat or the whole bot (then it is dropped: an action is
  // only worth sending now).
  bool chat_action_allowed(std::int64_t chat_id) const;
  // Chats whose state is kept: those with waiters, and idle ones until their limits have nothing left
  // to remember (a few seconds; a minute for groups). Dropped lazily, on the next acquire/rate_limited.
  std::size_t chat_count() const;

  // acquire(), call, and on a 429 rate_limited() then again, up to max_rate_limit_retries.
  template <class F>
  auto send(std::int64_t chat_id, ChatKind kind, F make_call, Priority priority = Priority::normal)
      -> std::invoke_result_t<F> {
    for (int attempt = 0;; ++attempt) {
      co_await acquire(chat_id, kind, priority);
      auto result = co_await make_call();
      if (result.ok() || result.error().kind != ApiError::Kind::rate_limited || attempt >= max_retries()) {
        co_return result;
      }
      rate_limited(chat_id, result.error().retry_after.value_or(std::chrono::seconds(1)),
                   /*global=*/false);
    }
  }

 private:
  int max_retries() const;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace igb::telegram
