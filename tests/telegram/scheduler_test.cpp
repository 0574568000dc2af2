#include "telegram/scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "support/async.hpp"

// Real time with small limits. Every time check is a lower bound that the limits imply (a grant can
// never come earlier); none is an upper bound.

namespace igb::telegram {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using igb::testing::rethrow;
using igb::testing::run_async;

struct Grant {
  int index = 0;
  std::int64_t chat = 0;
  Clock::time_point at{};
};

// One acquire() per call; records when it returned, or how it failed.
struct Recorder {
  std::vector<Grant> grants;
  std::vector<int> called;  // in the order acquire() was entered
  int failures = 0;
  bool saw_operation_aborted = false;
};

net::awaitable<void> acquire_one(SendScheduler* s, Recorder* r, int index, std::int64_t chat, ChatKind kind,
                                 Priority priority = Priority::normal) {
  r->called.push_back(index);
  co_await s->acquire(chat, kind, priority);
  r->grants.push_back({index, chat, Clock::now()});
}

auto on_done(Recorder* r) {
  return [r](std::exception_ptr e) {
    if (!e) return;
    ++r->failures;
    try {
      std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
      if (se.code() == net::error::operation_aborted) r->saw_operation_aborted = true;
    } catch (...) {}
  };
}

void spawn_acquire(net::io_context& io, SendScheduler& s, Recorder& r, int index, std::int64_t chat,
                   ChatKind kind = ChatKind::private_chat) {
  net::co_spawn(io, acquire_one(&s, &r, index, chat, kind), on_done(&r));
}

void spawn_cancellable(net::io_context& io, SendScheduler& s, Recorder& r, int index, std::int64_t chat,
                       net::cancellation_signal& signal, ChatKind kind = ChatKind::private_chat) {
  net::co_spawn(io, acquire_one(&s, &r, index, chat, kind), net::bind_cancellation_slot(signal.slot(), on_done(&r)));
}

net::awaitable<void> sleep_for(Clock::duration d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::use_awaitable);
}

const Grant* find_grant(const Recorder& r, int index) {
  for (const auto& g : r.grants)
    if (g.index == index) return &g;
  return nullptr;
}

TEST(SendScheduler, OneChatIsFifoAndSpacedByItsLimit) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 1000, .chat_per_second = 50, .chat_burst = 1});
  Recorder r;
  const auto start = Clock::now();
  for (int i = 0; i < 15; ++i) spawn_acquire(io, s, r, i, 1);
  io.run();
  ASSERT_EQ(r.grants.size(), 15u);
  EXPECT_EQ(r.failures, 0);
  for (int i = 0; i < 15; ++i) {
    EXPECT_EQ(r.grants[i].index, r.called[i]) << "grant " << i << " out of call order";
    EXPECT_GE(r.grants[i].at, start + i * 20ms) << "grant " << i << " came too early";
  }
}

TEST(SendScheduler, ChatBurstThenSustainedRate) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 1000, .chat_per_second = 25, .chat_burst = 3});
  Recorder r;
  const auto start = Clock::now();
  for (int i = 0; i < 10; ++i) spawn_acquire(io, s, r, i, 7);
  io.run();
  ASSERT_EQ(r.grants.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(r.grants[i].index, r.called[i]);
    // A full bucket of 3 lets the first three go at once; after that one per 40 ms.
    if (i >= 2) {
      EXPECT_GE(r.grants[i].at, start + (i - 2) * 40ms) << "grant " << i;
    }
  }
  EXPECT_GE(r.grants[9].at, start + 7 * 40ms);
}

TEST(SendScheduler, GlobalLimitHoldsAcrossManyChatsAndEachChatStaysFifo) {
  net::io_context io;
  // Only the global limit binds: 200/s, capacity one message, so the k-th grant since an idle start
  // can come no earlier than start + k * 5 ms (at most 200 * T + 1 in any window of T seconds).
  SendScheduler s(io.get_executor(), {.global_per_second = 200, .chat_per_second = 10'000, .chat_burst = 10});
  Recorder r;
  const auto start = Clock::now();
  int index = 0;
  for (int round = 0; round < 4; ++round)
    for (std::int64_t chat = 100; chat < 130; ++chat) spawn_acquire(io, s, r, index++, chat);
  io.run();
  ASSERT_EQ(r.grants.size(), 120u);
  std::vector<Clock::time_point> times;
  for (const auto& g : r.grants) times.push_back(g.at);
  std::sort(times.begin(), times.end());
  for (std::size_t k = 0; k < times.size(); ++k)
    EXPECT_GE(times[k], start + static_cast<int>(k) * 5ms) << "grant " << k << " came too early";
  // Per chat, grants follow calls (index = round * 30 + chat offset).
  for (std::int64_t chat = 100; chat < 130; ++chat) {
    std::vector<int> order;
    for (const auto& g : r.grants)
      if (g.chat == chat) order.push_back(g.index);
    ASSERT_EQ(order.size(), 4u);
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "chat " << chat;
  }
  // Across chats the global queue is first come, first served: round 0 goes before round 3.
  std::vector<int> first_seen;
  for (const auto& g : r.grants) first_seen.push_back(g.index);
  EXPECT_LT(std::find(first_seen.begin(), first_seen.end(), 29) - first_seen.begin(),
            std::find(first_seen.begin(), first_seen.end(), 90) - first_seen.begin());
}

TEST(SendScheduler, GroupLimitHoldsTheGroupButNotOthers) {
  net::io_context io;
  SendScheduler s(io.get_executor(),
                  {.global_per_second = 1000, .chat_per_second = 1000, .chat_burst = 10, .group_per_minute = 3});
  Recorder group;
  Recorder other;
  net::cancellation_signal fourth;
  run_async(io,
            [](net::io_context* ctx, SendScheduler* sched, Recorder* in_group, Recorder* in_private,
               net::cancellation_signal* fourth_cancel) -> net::awaitable<void> {
              for (int i = 0; i < 3; ++i) spawn_acquire(*ctx, *sched, *in_group, i, -100, ChatKind::group);
              spawn_cancellable(*ctx, *sched, *in_group, 3, -100, *fourth_cancel, ChatKind::group);
              for (int i = 0; i < 5; ++i) spawn_acquire(*ctx, *sched, *in_private, i, 5);
              co_await sleep_for(300ms);
    // The fourth group message may not go before a minute has passed since the first.
              EXPECT_EQ(in_group->grants.size(), 3u);
              EXPECT_EQ(find_grant(*in_group, 3), nullptr);
              EXPECT_EQ(in_private->grants.size(), 5u);
              fourth_cancel->emit(net::cancellation_type::terminal);
            }(&io, &s, &group, &other, &fourth));
  io.restart();
  io.run();
  EXPECT_EQ(group.grants.size(), 3u);
  EXPECT_EQ(group.failures, 1);
  EXPECT_TRUE(group.saw_operation_aborted);
  // The group still counts the three sent: a new call waits too, a private chat does not.
  Recorder after;
  net::cancellation_signal late;
  run_async(io,
            [](net::io_context* ctx, SendScheduler* sched, Recorder* rec,
               net::cancellation_signal* late_cancel) -> net::awaitable<void> {
              spawn_cancellable(*ctx, *sched, *rec, 0, -100, *late_cancel, ChatKind::group);
              spawn_acquire(*ctx, *sched, *rec, 1, 6);
              co_await sleep_for(100ms);
              EXPECT_EQ(find_grant(*rec, 0), nullptr);
              EXPECT_NE(find_grant(*rec, 1), nullptr);
              late_cancel->emit(net::cancellation_type::terminal);
            }(&io, &s, &after, &late));
  io.restart();
  io.run();
  EXPECT_EQ(after.failures, 1);
}

// A status message announcing a long wait must not queue behind the photos it announces: among
// messages the limits allow, high priority goes first; the backlog counts every waiter.
TEST(SendScheduler, HighPriorityGoesBeforeNormalAcrossChats) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 100, .chat_per_second = 1000, .chat_burst = 5});
  Recorder r;
  for (int i = 0; i < 10; ++i) spawn_acquire(io, s, r, i, 100 + i);
  net::co_spawn(io, acquire_one(&s, &r, 50, 200, ChatKind::private_chat, Priority::high), on_done(&r));
  net::co_spawn(io, acquire_one(&s, &r, 51, 201, ChatKind::private_chat, Priority::high), on_done(&r));
  std::size_t backlog_seen = 0;
  net::post(io, [&] { backlog_seen = s.backlog(); });
  io.run();
  ASSERT_EQ(r.grants.size(), 12u);
  EXPECT_EQ(r.failures, 0);
  // The first normal one was granted at once (nothing waited yet); the two high ones come next, in
  // their order, before the nine normal ones left.
  EXPECT_EQ(r.grants[0].index, 0);
  EXPECT_EQ(r.grants[1].index, 50);
  EXPECT_EQ(r.grants[2].index, 51);
  for (int i = 3; i < 12; ++i) EXPECT_EQ(r.grants[i].index, i - 2) << "normal ones stay in arrival order";
  EXPECT_EQ(backlog_seen, 11u);
  EXPECT_EQ(s.backlog(), 0u);
}

// Chat actions never wait for a turn: one may go unless a 429 holds the chat or the whole bot.
TEST(SendScheduler, ChatActionsAreDroppedWhileA429HoldsTheChat) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {});
  EXPECT_TRUE(s.chat_action_allowed(1));
  s.rate_limited(1, 30s, /*global=*/false);
  EXPECT_FALSE(s.chat_action_allowed(1));
  EXPECT_TRUE(s.chat_action_allowed(2));
  s.rate_limited(0, 30s, /*global=*/true);
  EXPECT_FALSE(s.chat_action_allowed(2));
}

TEST(SendScheduler, RateLimitedChatPausesOnlyThatChat) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 1000, .chat_per_second = 1000, .chat_burst = 5});
  Recorder r;
  const auto before = Clock::now();
  s.rate_limited(1, 1s, /*global=*/false);
  for (int i = 0; i < 3; ++i) spawn_acquire(io, s, r, i, 1);
  spawn_acquire(io, s, r, 10, 2);
  io.run();
  ASSERT_EQ(r.grants.size(), 4u);
  EXPECT_EQ(r.grants[0].chat, 2) << "the other chat is not held back";
  for (int i = 0; i < 3; ++i) {
    const Grant* g = find_grant(r, i);
    ASSERT_NE(g, nullptr);
    EXPECT_GE(g->at, before + 1s);
  }
  EXPECT_TRUE(find_grant(r, 0)->at <= find_grant(r, 1)->at && find_grant(r, 1)->at <= find_grant(r, 2)->at);
  EXPECT_EQ(s.rate_limited_count(), 1);
}

TEST(SendScheduler, RateLimitedWhileWaitingPausesTheWaitingChat) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 1000, .chat_per_second = 10, .chat_burst = 1});
  Recorder r;
  Clock::time_point limited_at{};
  run_async(io,
            [](net::io_context* ctx, SendScheduler* sched, Recorder* rec,
               Clock::time_point* limited_time) -> net::awaitable<void> {
              spawn_acquire(*ctx, *sched, *rec, 0, 1);
              spawn_acquire(*ctx, *sched, *rec, 1, 1);  // waits ~100 ms for the chat's own limit
              co_await sleep_for(10ms);
              *limited_time = Clock::now();
              sched->rate_limited(1, 1s, false);
              spawn_acquire(*ctx, *sched, *rec, 2, 3);
            }(&io, &s, &r, &limited_at));
  io.restart();
  io.run();
  ASSERT_EQ(r.grants.size(), 3u);
  EXPECT_GE(find_grant(r, 1)->at, limited_at + 1s);
  EXPECT_LT(find_grant(r, 2)->at, find_grant(r, 1)->at);  // order, not time: chat 3 went first
}

TEST(SendScheduler, GlobalRateLimitPausesEveryone) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 1000, .chat_per_second = 1000, .chat_burst = 5});
  Recorder r;
  const auto before = Clock::now();
  s.rate_limited(1, 1s, /*global=*/true);
  for (std::int64_t chat = 1; chat <= 4; ++chat) spawn_acquire(io, s, r, static_cast<int>(chat), chat);
  io.run();
  ASSERT_EQ(r.grants.size(), 4u);
  for (const auto& g : r.grants) EXPECT_GE(g.at, before + 1s) << "chat " << g.chat;
  EXPECT_EQ(s.rate_limited_count(), 1);
}

struct FakeCalls {
  int calls = 0;
  int rate_limited_first = 1;  // how many calls answer 429 before one succeeds
  std::optional<std::chrono::seconds> retry_after = 1s;
  std::vector<Clock::time_point> at;
};

net::awaitable<ApiResult<Done>> fake_call(FakeCalls* f) {
  ++f->calls;
  f->at.push_back(Clock::now());
  if (f->calls <= f->rate_limited_first) {
    co_return ApiError{.kind = ApiError::Kind::rate_limited,
                       .error_code = 429,
                       .description = "Too Many Requests: retry after 1",
                       .retry_after = f->retry_after};
  }
  co_return Done{};
}

// ApiResult has no default constructor, which use_future needs.
net::awaitable<std::optional<ApiResult<Done>>> send_fake(SendScheduler* s, FakeCalls* f) {
  auto make_call = [f] { return fake_call(f); };
  auto result = co_await s->send(42, ChatKind::private_chat, make_call);
  co_return result;
}

TEST(SendScheduler, SendRetriesA429AfterRetryAfter) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {});
  FakeCalls f;
  auto result = run_async(io, send_fake(&s, &f));
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ok());
  ASSERT_EQ(f.calls, 2);
  EXPECT_GE(f.at[1], f.at[0] + 1s);
  EXPECT_EQ(s.rate_limited_count(), 1);
}

TEST(SendScheduler, SendGivesUpAfterMaxRetries) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.chat_per_second = 1000, .chat_burst = 10, .max_rate_limit_retries = 2});
  FakeCalls f{.rate_limited_first = 100, .retry_after = 0s};
  auto result = run_async(io, send_fake(&s, &f));
  ASSERT_TRUE(result);
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().kind, ApiError::Kind::rate_limited);
  EXPECT_EQ(f.calls, 3);
  EXPECT_EQ(s.rate_limited_count(), 2);
}

TEST(SendScheduler, CancelledWaitersLeaveTheOthersWorking) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 20, .chat_per_second = 10, .chat_burst = 1});
  Recorder r;
  net::cancellation_signal chat_head;      // second in chat 1: waits for the chat's limit
  net::cancellation_signal global_leader;  // chat 2: first in line for the global limit
  net::cancellation_signal queued;         // third in chat 1, behind chat_head
  const auto start = Clock::now();
  run_async(io,
            [](net::io_context* ctx, SendScheduler* sched, Recorder* rec, net::cancellation_signal* a,
               net::cancellation_signal* b, net::cancellation_signal* c) -> net::awaitable<void> {
              spawn_acquire(*ctx, *sched, *rec, 0, 1);
              spawn_cancellable(*ctx, *sched, *rec, 1, 1, *a);
              spawn_cancellable(*ctx, *sched, *rec, 2, 2, *b);
              spawn_acquire(*ctx, *sched, *rec, 3, 3);
              spawn_acquire(*ctx, *sched, *rec, 4, 1);
              spawn_cancellable(*ctx, *sched, *rec, 5, 1, *c);
              spawn_acquire(*ctx, *sched, *rec, 6, 1);
              co_await sleep_for(1ms);
              a->emit(net::cancellation_type::terminal);
              b->emit(net::cancellation_type::terminal);
              c->emit(net::cancellation_type::terminal);
            }(&io, &s, &r, &chat_head, &global_leader, &queued));
  io.restart();
  io.run();
  EXPECT_EQ(r.failures, 3);
  EXPECT_TRUE(r.saw_operation_aborted);
  ASSERT_EQ(r.grants.size(), 4u);
  std::vector<int> order;
  for (const auto& g : r.grants) order.push_back(g.index);
  // 0 at once; 3 next (global spacing); chat 1 goes on with 4 then 6 at its own pace.
  EXPECT_EQ(order, (std::vector<int>{0, 3, 4, 6}));
  EXPECT_GE(find_grant(r, 4)->at, start + 100ms);
  EXPECT_GE(find_grant(r, 6)->at, start + 200ms);
  // And the scheduler still serves new callers.
  Recorder more;
  spawn_acquire(io, s, more, 0, 1);
  spawn_acquire(io, s, more, 1, 9);
  io.restart();
  io.run();
  EXPECT_EQ(more.grants.size(), 2u);
}

net::awaitable<void> cancel_later(net::cancellation_signal* signal, Clock::duration delay) {
  co_await sleep_for(delay);
  signal->emit(net::cancellation_type::terminal);
}

// Many chats, callers cancelled at random moments: every caller either gets its turn or sees
// operation_aborted, and the limits and per-chat order hold for those that got theirs.
TEST(SendScheduler, RandomCancellationsKeepLimitsAndOrder) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 400, .chat_per_second = 100, .chat_burst = 2});
  Recorder r;
  std::vector<std::unique_ptr<net::cancellation_signal>> signals;
  std::mt19937 rng(12345);
  const auto start = Clock::now();
  constexpr int kChats = 30;
  constexpr int kPerChat = 10;
  int index = 0;
  for (int round = 0; round < kPerChat; ++round) {
    for (int chat = 0; chat < kChats; ++chat) {
      if (rng() % 5 == 0) {
        signals.push_back(std::make_unique<net::cancellation_signal>());
        spawn_cancellable(io, s, r, index, chat, *signals.back());
        net::co_spawn(io, cancel_later(signals.back().get(), std::chrono::milliseconds(rng() % 600)), rethrow);
      } else {
        spawn_acquire(io, s, r, index, chat);
      }
      ++index;
    }
  }
  io.run();
  EXPECT_EQ(static_cast<int>(r.grants.size()) + r.failures, kChats * kPerChat);
  EXPECT_GT(r.failures, 0);
  std::vector<Clock::time_point> times;
  std::map<std::int64_t, std::vector<const Grant*>> by_chat;
  for (const auto& g : r.grants) {
    times.push_back(g.at);
    by_chat[g.chat].push_back(&g);
  }
  std::sort(times.begin(), times.end());
  for (std::size_t k = 0; k < times.size(); ++k)
    EXPECT_GE(times[k], start + static_cast<int>(k) * 2500us) << "grant " << k;
  for (const auto& [chat, grants] : by_chat) {
    for (std::size_t k = 1; k < grants.size(); ++k) {
      EXPECT_LT(grants[k - 1]->index, grants[k]->index) << "chat " << chat;
      EXPECT_GE(grants[k]->at, start + static_cast<int>(k - 1) * 10ms) << "chat " << chat << " grant " << k;
    }
  }
  run_async(io, sleep_for(50ms));
  spawn_acquire(io, s, r, index, 5);
  io.restart();
  io.run();
  EXPECT_EQ(s.chat_count(), 1u);
}

TEST(SendScheduler, IdleChatsAreForgotten) {
  net::io_context io;
  SendScheduler s(io.get_executor(), {.global_per_second = 0, .chat_per_second = 100, .chat_burst = 1});
  Recorder r;
  for (int chat = 0; chat < 500; ++chat) spawn_acquire(io, s, r, chat, 1000 + chat);
  io.run();
  EXPECT_EQ(r.grants.size(), 500u);
  EXPECT_GT(s.chat_count(), 0u);  // each chat's limit still remembers the last 10 ms
  run_async(io, sleep_for(50ms));
  spawn_acquire(io, s, r, 500, 5);
  io.restart();
  io.run();
  EXPECT_EQ(s.chat_count(), 1u);  // only chat 5, which has just sent
}

}  // namespace
}  // namespace igb::telegram
