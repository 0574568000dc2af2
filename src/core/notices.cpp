#include "core/notices.hpp"

namespace igb::core {
namespace {

constexpr auto kEndedLookback = std::chrono::days(2);  // an end older than this is not announced any more

// Another paid period of the user covers the moment `s` ends: the plan does not end then.
bool continued(Tx& tx, const Subscription& s) {
  for (const auto& other : tx.subscriptions_of(s.user_id)) {
    if (other.id != s.id && other.status == SubscriptionStatus::active && other.period_start <= s.period_end &&
        other.period_end > s.period_end) {
      return true;
    }
  }
  return false;
}

}  // namespace

const char* to_string(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::ends_in_3_days: return "ends_3d";
    case NoticeKind::ends_in_1_day: return "ends_1d";
    case NoticeKind::ended: return "ended";
    case NoticeKind::quota_80: return "quota_80";
    case NoticeKind::quota_reached: return "quota_reached";
    case NoticeKind::renewal_failed: return "renewal_failed";
    case NoticeKind::referral_inviter: return "referral_inviter";
    case NoticeKind::referral_invitee: return "referral_invitee";
  }
  return "?";
}

std::vector<Notice> NoticeService::due(Timestamp images_since) {
  const auto now = clock_.now();
  std::vector<Notice> out;
  auto tx = store_.begin(TxMode::read);
  auto add_if_new = [&](Notice n) {
    if (!tx->has_notification(n.user, to_string(n.kind), n.ref)) out.push_back(std::move(n));
  };
  for (const auto& s : tx->subscriptions_ending(now - kEndedLookback, now + std::chrono::days(3))) {
    // Telegram renews an auto-renewing Stars subscription; a failed renewal is its own notice.
    if (s.auto_renew && s.source == SubscriptionSource::stars) continue;
    if (continued(*tx, s)) continue;
    NoticeKind kind = s.period_end <= now                          ? NoticeKind::ended
                      : s.period_end - now <= std::chrono::days(1) ? NoticeKind::ends_in_1_day
                                                                   : NoticeKind::ends_in_3_days;
    add_if_new(
        {.user = s.user_id, .kind = kind, .ref = std::to_string(s.id), .plan_id = s.plan_id, .when = s.period_end});
  }
  for (auto user : tx->users_with_images(images_since, now + std::chrono::milliseconds(1))) {
    auto q = resolve_quota(*tx, plans_, user, now, /*lock=*/false);
    if (q.limit <= 0) continue;
    NoticeKind kind;
    if (q.used >= q.limit) {
      kind = NoticeKind::quota_reached;
    } else if (q.used * 5 >= q.limit * 4) {
      kind = NoticeKind::quota_80;
    } else {
      continue;
    }
    add_if_new({.user = user,
                .kind = kind,
                .ref = std::to_string(to_unix_ms(q.period_start)),
                .plan_id = q.plan.id,
                .when = q.resets_at,
                .used = q.used,
                .limit = q.limit});
  }
  for (const auto& r : tx->referrals_converted(images_since, now + std::chrono::milliseconds(1))) {
    const auto ref = std::to_string(r.invitee);
    const auto when = r.converted_at.value_or(now);
    add_if_new(
        {.user = r.inviter, .kind = NoticeKind::referral_inviter, .ref = ref, .when = when, .bonus = r.bonus_images});
    add_if_new(
        {.user = r.invitee, .kind = NoticeKind::referral_invitee, .ref = ref, .when = when, .bonus = r.bonus_images});
  }
  return out;
}

std::optional<Notice> NoticeService::renewal_failed(UserId user, const std::optional<Subscription>& current) {
  Notice n{.user = user, .kind = NoticeKind::renewal_failed, .ref = "none"};
  if (current) {
    n.ref = std::to_string(current->id);
    n.plan_id = current->plan_id;
    n.when = current->period_end;
  }
  auto tx = store_.begin(TxMode::read);
  if (tx->has_notification(user, to_string(n.kind), n.ref)) return std::nullopt;
  return n;
}

bool NoticeService::mark_sent(const Notice& n) {
  return transact(store_, TxMode::write,
                  [&](Tx& tx) { return tx.record_notification(n.user, to_string(n.kind), n.ref, clock_.now()); });
}

}  // namespace igb::core
