#include "telegram/scheduler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <deque>
#include <iterator>
#include <list>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

// How it works. Limits are GCRA cells (one "theoretical arrival time" per bucket): a call may go at
// tat - tolerance, and going moves tat to max(tat, now) + interval.
//   - global: interval 1/global_per_second, tolerance 0 (capacity one message). Calls are spaced
//     evenly, so any window of T seconds holds at most global_per_second * T + 1 of them; a burst
//     capacity would add nothing to throughput and would make 429s likelier right after an idle spell.
//   - per chat (private chats and groups): interval 1/chat_per_second, capacity chat_burst.
//   - groups also: at most group_per_minute in any 60-second window (the times of the last
//     group_per_minute calls are kept), which is Telegram's rule as stated, and lets a group get a reply
//     and a few edits at once instead of one every 3 s.
// Only the head of a chat's FIFO is ever scheduled. A head whose chat limits still hold it sleeps on its
// own timer until they allow it (asio's timer heap: O(log n) per chat, no scan). A head that its chat
// allows joins `ready_`, ordered by arrival; the oldest one (the "leader") sleeps until the global cell
// allows it. Every grant, cancellation or 429 re-runs dispatch(), which touches the front of `ready_` only.
// Waiters are woken by cancelling their timer (a "poke") after the scheduler has changed wake_at or set
// granted; a waiter tells a poke from its coroutine's cancellation by the cancellation state.

namespace igb::telegram {

namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
constexpr TimePoint kNever = TimePoint::max();
constexpr auto kGroupWindow = std::chrono::minutes(1);
constexpr auto kTok = net::as_tuple(net::use_awaitable);

// Rounded up, so the scheduler never goes faster than the limit. Zero (no limit) for rates <= 0.
Clock::duration interval_for(double per_second) {
  if (!(per_second > 0)) return Clock::duration::zero();
  return std::chrono::ceil<Clock::duration>(std::chrono::duration<double>(1.0 / per_second));
}

}  // namespace

struct SendScheduler::State {
  struct Chat;

  // Lives in the frame of the acquire() call it belongs to; linked into the scheduler until granted or
  // abandoned.
  struct Waiter {
    explicit Waiter(const net::any_io_executor& executor) : timer(executor, kNever) {}
    Chat* chat = nullptr;
    std::uint64_t seq = 0;  // arrival order, across chats; high priority below every normal one
    std::list<Waiter*>::iterator pos;
    TimePoint wake_at = kNever;
    bool granted = false;
    net::steady_timer timer;
  };

  struct Chat {
    std::int64_t id = 0;
    ChatKind kind = ChatKind::private_chat;
    TimePoint tat{};
    TimePoint blocked_until{};   // retry_after of the last 429
    std::deque<TimePoint> recent;  // groups: the last group_per_minute grants
    std::list<Waiter*> queue;      // FIFO; only the front is scheduled
    bool in_ready = false;         // the front is in ready_
    TimePoint forget_at = kNever;  // in idle_ (queue empty) until then
  };

  State(net::any_io_executor ex, SchedulerOptions opts)
      : executor(std::move(ex)),
        options(opts),
        global_interval(interval_for(opts.global_per_second)),
        chat_interval(interval_for(opts.chat_per_second)),
        chat_tolerance(chat_interval * (std::max(opts.chat_burst, 1) - 1)),
        group_limit(static_cast<std::size_t>(std::max(opts.group_per_minute, 0))) {}

  TimePoint chat_ready_at(const Chat& c) const {
    TimePoint t = std::max(c.tat - chat_tolerance, c.blocked_until);
    if (c.kind == ChatKind::group && group_limit > 0 && c.recent.size() >= group_limit)
      t = std::max(t, c.recent.front() + kGroupWindow);
    return t;
  }

  TimePoint global_ready_at() const { return std::max(global_tat, global_blocked_until); }

  // Changes when a waiting waiter wakes; its loop re-arms the timer with the new value.
  static void set_wake(Waiter& w, TimePoint t) {
    if (w.wake_at == t) return;
    w.wake_at = t;
    w.timer.cancel();
  }

  Chat& chat(std::int64_t id, TimePoint now) {
    auto [it, inserted] = chats.try_emplace(id);
    if (inserted) {
      it->second = std::make_unique<Chat>();
      it->second->id = id;
      it->second->tat = now;
    }
    return *it->second;
  }

  void unpark(Chat& c) {
    if (c.forget_at == kNever) return;
    idle.erase({c.forget_at, c.id});
    c.forget_at = kNever;
  }

  // A chat without waiters is kept only while its limits remember something (tat in the future, a 429,
  // group sends within the window); then it is dropped. May destroy `c`.
  void park(Chat& c, TimePoint now) {
    unpark(c);
    TimePoint forget = std::max(c.tat, c.blocked_until);
    if (!c.recent.empty()) forget = std::max(forget, c.recent.back() + kGroupWindow);
    if (forget <= now) {
      chats.erase(c.id);
      return;
    }
    c.forget_at = forget;
    idle.emplace(forget, c.id);
  }

  // Amortised: each dropped chat is visited once.
  void sweep(TimePoint now) {
    while (!idle.empty() && idle.begin()->first <= now) {
      chats.erase(idle.begin()->second);
      idle.erase(idle.begin());
    }
  }

  void leave_ready(Chat& c) {
    if (!c.in_ready) return;
    Waiter* head = c.queue.front();
    ready.erase(head->seq);
    c.in_ready = false;
    if (leader == head) leader = nullptr;
  }

  // The chat's front changed, or its limits did. May destroy `c` (when it has no waiters).
  void schedule_head(Chat& c, TimePoint now) {
    if (c.queue.empty()) {
      park(c, now);
      return;
    }
    Waiter& head = *c.queue.front();
    const TimePoint at = chat_ready_at(c);
    if (at <= now) {
      if (!c.in_ready) {
        ready.emplace(head.seq, &c);
        c.in_ready = true;
      }
      if (leader != &head) set_wake(head, kNever);
    } else {
      leave_ready(c);
      set_wake(head, at);
    }
  }

  void grant(Chat& c, TimePoint now) {
    Waiter& w = *c.queue.front();
    leave_ready(c);
    c.queue.pop_front();
    w.chat = nullptr;
    w.granted = true;
    --waiting;
    w.timer.cancel();
    global_tat = std::max(global_tat, now) + global_interval;
    c.tat = std::max(c.tat, now) + chat_interval;
    if (c.kind == ChatKind::group && group_limit > 0) {
      c.recent.push_back(now);
      while (c.recent.size() > group_limit) c.recent.pop_front();
    }
    schedule_head(c, now);
  }

  void dispatch(TimePoint now) {
    while (!ready.empty()) {
      Chat& c = *ready.begin()->second;
      const TimePoint at = global_ready_at();
      if (at > now) {
        Waiter& head = *c.queue.front();
        if (leader && leader != &head) set_wake(*leader, kNever);
        leader = &head;
        set_wake(head, at);
        return;
      }
      grant(c, now);
    }
  }

  // The waiter's timer ran out: whatever held it back may have passed.
  void on_due(Waiter& w, TimePoint now) {
    Chat& c = *w.chat;
    if (c.queue.front() == &w && !c.in_ready) schedule_head(c, now);
    dispatch(now);
  }

  // The waiter's coroutine was cancelled before its turn.
  void abandon(Waiter& w) {
    const TimePoint now = Clock::now();
    Chat& c = *w.chat;
    const bool head = c.queue.front() == &w;
    if (head) leave_ready(c);
    if (leader == &w) leader = nullptr;
    c.queue.erase(w.pos);
    --waiting;
    w.chat = nullptr;
    if (head) schedule_head(c, now);
    dispatch(now);
  }

  net::any_io_executor executor;
  SchedulerOptions options;
  Clock::duration global_interval;
  Clock::duration chat_interval;
  Clock::duration chat_tolerance;
  std::size_t group_limit;

  TimePoint global_tat{};
  TimePoint global_blocked_until{};
  std::uint64_t next_seq = std::uint64_t{1} << 62;  // normal priority
  std::uint64_t next_high_seq = 0;
  std::int64_t rate_limited_calls = 0;
  std::size_t waiting = 0;  // waiters not yet granted, all chats

  std::unordered_map<std::int64_t, std::unique_ptr<Chat>> chats;
  std::map<std::uint64_t, Chat*> ready;  // chats whose head only waits for the global limit, by head arrival
  Waiter* leader = nullptr;              // head of ready's first chat, asleep until the global limit allows
  std::set<std::pair<TimePoint, std::int64_t>> idle;  // chats without waiters, by when they can be dropped
};

SendScheduler::SendScheduler(net::any_io_executor executor, SchedulerOptions options)
    : state_(std::make_unique<State>(std::move(executor), options)) {}

SendScheduler::~SendScheduler() = default;

int SendScheduler::max_retries() const { return state_->options.max_rate_limit_retries; }

std::int64_t SendScheduler::rate_limited_count() const { return state_->rate_limited_calls; }

std::size_t SendScheduler::chat_count() const { return state_->chats.size(); }

std::size_t SendScheduler::backlog() const { return state_->waiting; }

double SendScheduler::global_per_second() const { return state_->options.global_per_second; }

bool SendScheduler::chat_action_allowed(std::int64_t chat_id) const {
  const State& s = *state_;
  const TimePoint now = Clock::now();
  if (s.global_blocked_until > now) return false;
  auto it = s.chats.find(chat_id);
  return it == s.chats.end() || it->second->blocked_until <= now;
}

net::awaitable<void> SendScheduler::acquire(std::int64_t chat_id, ChatKind kind, Priority priority) {
  State& s = *state_;
  TimePoint now = Clock::now();
  s.sweep(now);
  State::Waiter w(s.executor);
  State::Chat& c = s.chat(chat_id, now);
  c.kind = kind;
  s.unpark(c);
  w.chat = &c;
  w.seq = priority == Priority::high ? s.next_high_seq++ : s.next_seq++;
  c.queue.push_back(&w);
  ++s.waiting;
  w.pos = std::prev(c.queue.end());
  if (c.queue.size() == 1) s.schedule_head(c, now);
  s.dispatch(now);

  while (!w.granted) {
    w.timer.expires_at(w.wake_at);
    boost::system::error_code ec;
    try {
      std::tie(ec) = co_await w.timer.async_wait(kTok);
    } catch (...) {  // co_await throws at once when the coroutine was cancelled before it
      if (!w.granted) s.abandon(w);
      throw;
    }
    if (w.granted) break;
    auto cs = co_await net::this_coro::cancellation_state;
    if (cs.cancelled() != net::cancellation_type::none) {
      s.abandon(w);
      throw boost::system::system_error(net::error::operation_aborted);
    }
    if (!ec) s.on_due(w, Clock::now());
  }
}

void SendScheduler::rate_limited(std::int64_t chat_id, std::chrono::seconds retry_after, bool global) {
  State& s = *state_;
  const TimePoint now = Clock::now();
  ++s.rate_limited_calls;
  s.sweep(now);
  const TimePoint until = now + std::max(retry_after, std::chrono::seconds(0));
  if (global) {
    s.global_blocked_until = std::max(s.global_blocked_until, until);
  } else {
    State::Chat& c = s.chat(chat_id, now);
    c.blocked_until = std::max(c.blocked_until, until);
    s.schedule_head(c, now);  // parks it again if it has no waiters
  }
  s.dispatch(now);
}

}  // namespace igb::telegram
