#pragma once
// Notices the bot sends on its own, each once per user and occasion (the notifications log):
// a subscription that will not renew ends in 3 days / in 1 day / has ended; 80% / all of the
// period's images are used; a renewal payment failed. This decides what is due; the bot words and
// sends it, then marks it sent.
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/model.hpp"
#include "core/plans.hpp"
#include "core/quota.hpp"
#include "core/store.hpp"

namespace igb::core {

enum class NoticeKind {
  ends_in_3_days,
  ends_in_1_day,
  ended,
  quota_80,
  quota_reached,
  renewal_failed,
  referral_inviter,  // a user they invited made their first image: both got bonus images
  referral_invitee,  // their first image made them and their inviter get bonus images
};
const char* to_string(NoticeKind kind);

struct Notice {
  UserId user = 0;
  NoticeKind kind = NoticeKind::ended;
  std::string ref;      // what it is about (a subscription id, a quota period): once per (user, kind, ref)
  std::string plan_id;  // the plan it is about
  Timestamp when{};     // the period's end (subscriptions) or the quota's reset
  int used = 0;         // quota notices
  int limit = 0;
  int bonus = 0;        // referral notices: the bonus images each got
};

class NoticeService {
 public:
  NoticeService(Store& store, const Clock& clock, const PlanCatalog& plans)
      : store_(store), clock_(clock), plans_(plans) {}

  // Notices due now and not sent yet: periods that will not be renewed and end within 3 days or
  // ended less than 2 days ago (and no other paid period follows), and users who got an image since
  // `images_since` and have used 80% or all of their period's images, and both users of each referral
  // converted since then (ref: the invited user's id).
  std::vector<Notice> due(Timestamp images_since);
  // The renewal of the user's current Stars subscription (`current`, if known) failed (Telegram's
  // Update.subscription); nullopt if that was announced already.
  std::optional<Notice> renewal_failed(UserId user, const std::optional<Subscription>& current);
  // Records it as sent; false if it was recorded before.
  bool mark_sent(const Notice& notice);

 private:
  Store& store_;
  const Clock& clock_;
  const PlanCatalog& plans_;
};

}  // namespace igb::core
