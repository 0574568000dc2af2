#pragma once
// The operator's margins (issue 17): what each generated image cost at its provider, what Stars
// brought in, per UTC day and plan, and the optional daily spend ceiling for the free plans.
// Money is kept in millionths of a US dollar ("micros", int64): exact sums, no floating point.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace igb::core {

inline constexpr std::int64_t kMicrosPerUsd = 1'000'000;
// What one Telegram Star is taken to be worth by default (STARS_USD_RATE): the developer payout rate
// commonly cited, 0.013 USD. Telegram's own figure varies (docs/architecture.md, "Margins").
inline constexpr std::int64_t kDefaultUsdMicrosPerStar = 13'000;

enum class PriceUnit { image, megapixel };

struct Price {
  std::int64_t micros = 0;  // per image, or per megapixel (1,000,000 pixels, pro rata)
  PriceUnit unit = PriceUnit::image;
};

struct ProviderPrice {
  std::string provider;  // an HF inference provider ("fal-ai"), a backend's name, or "*" for any other
  Price price;
};

// The configured prices (PROVIDER_PRICES). A provider without a price (and no "*") makes images of
// unknown cost: they are counted apart ("unpriced") and add nothing to the spend.
class PriceList {
 public:
  PriceList() = default;
  explicit PriceList(std::vector<ProviderPrice> entries) : entries_(std::move(entries)) {}

  // One image of width × height made by `provider`, in micros; nullopt when it has no price.
  std::optional<std::int64_t> cost_micros(std::string_view provider, int width, int height) const;
  const std::vector<ProviderPrice>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<ProviderPrice> entries_;
};

// Who made a job's image: the provider that actually served it (after any failover) and the model.
struct ServedBy {
  std::string provider;
  std::string model;
};

// "$0.0030", "-$1.2500": four decimals, rounded half away from zero.
std::string format_usd(std::int64_t micros);
// A non-negative decimal amount of US dollars with at most six decimals ("0.003", "12", "0.0025"),
// at most `max_micros`; nullopt otherwise.
std::optional<std::int64_t> parse_usd_micros(std::string_view text, std::int64_t max_micros);
// "2026-01-31" for the UTC day `t` falls in.
std::string iso_day(Timestamp t);

// One UTC day and plan: images the providers made (succeeded jobs that were not served from the
// cache), their recorded cost, how many had no price, and the Stars paid (payments not refunded).
struct MarginRow {
  Timestamp day{};
  std::string plan;
  std::int64_t images = 0;
  std::int64_t spend_micros = 0;
  std::int64_t unpriced = 0;
  std::int64_t stars = 0;
};

struct Margins {
  int days = 7;                                              // the window: today and the days before
  std::int64_t usd_micros_per_star = kDefaultUsdMicrosPerStar;  // STARS_USD_RATE
  std::int64_t spend_limit_micros = 0;                       // DAILY_SPEND_LIMIT_USD; 0: none
  std::int64_t spend_today_micros = 0;
  std::vector<MarginRow> rows;  // newest day first, then by plan
};

// Plain lines for /stats and `imggenbot stats`: one per day and plan, a total, and today's spend
// against the ceiling.
std::string describe(const Margins& margins);

// Today's spend reached the ceiling, and this process is the one to tell the admins (once a day).
struct SpendAlert {
  Timestamp day{};
  std::int64_t spend_micros = 0;
  std::int64_t limit_micros = 0;
};

// The settings row that remembers the last day the admins were alerted ("2026-01-31").
inline constexpr std::string_view kSpendAlertKey = "margins.spend_alert_day";

}  // namespace igb::core
