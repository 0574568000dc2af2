#include "core/margins.hpp"

#include <chrono>
#include <cstdio>
#include <algorithm>

namespace igb::core {

std::optional<std::int64_t> PriceList::cost_micros(std::string_view provider, int width, int height) const {
  const Price* found = nullptr;
  for (const auto& e : entries_) {
    if (e.provider == provider) {
      found = &e.price;
      break;
    }
    if (e.provider == "*" && found == nullptr) found = &e.price;
  }
  if (found == nullptr) return std::nullopt;
  if (found->unit == PriceUnit::image) return found->micros;
  // Pro rata per megapixel, rounded to the nearest micro. Prices are at most 1000 USD (1e9 micros) and
  // sides at most a few thousand pixels, so the product stays far inside int64.
  const std::int64_t pixels = static_cast<std::int64_t>(std::max(width, 0)) * std::max(height, 0);
  return (found->micros * pixels + 500'000) / 1'000'000;
}

std::string format_usd(std::int64_t micros) {
  const bool negative = micros < 0;
  // Four decimals: hundreds of micros, rounded half away from zero.
  const std::uint64_t magnitude = negative ? static_cast<std::uint64_t>(-(micros + 1)) + 1 : micros;
  const std::uint64_t hundreds = (magnitude + 50) / 100;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s$%llu.%04llu", negative && hundreds != 0 ? "-" : "",
                static_cast<unsigned long long>(hundreds / 10'000), static_cast<unsigned long long>(hundreds % 10'000));
  return buf;
}

std::optional<std::int64_t> parse_usd_micros(std::string_view text, std::int64_t max_micros) {
  if (text.empty() || text.size() > 24) return std::nullopt;
  std::int64_t whole = 0;
  std::size_t i = 0;
  bool digits = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    whole = whole * 10 + (text[i] - '0');
    digits = true;
    if (whole > max_micros / kMicrosPerUsd + 1) return std::nullopt;
  }
  std::int64_t fraction = 0;
  int decimals = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (++decimals > 6) return std::nullopt;
      fraction = fraction * 10 + (text[i] - '0');
      digits = true;
    }
    if (decimals == 0) return std::nullopt;  // "1." is not an amount
  }
  if (!digits || i != text.size()) return std::nullopt;
  for (int d = decimals; d < 6; ++d) fraction *= 10;
  const std::int64_t micros = whole * kMicrosPerUsd + fraction;
  if (micros > max_micros) return std::nullopt;
  return micros;
}

std::string iso_day(Timestamp t) {
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

namespace {

std::int64_t stars_value(std::int64_t stars, std::int64_t micros_per_star) { return stars * micros_per_star; }

std::string line(const std::string& label, const MarginRow& r, std::int64_t micros_per_star) {
  const auto value = stars_value(r.stars, micros_per_star);
  std::string out = label + ": " + std::to_string(r.images) + " images, spend " + format_usd(r.spend_micros);
  if (r.unpriced > 0) out += " (+" + std::to_string(r.unpriced) + " unpriced)";
  out += ", " + std::to_string(r.stars) + " Stars = " + format_usd(value) + ", margin " +
         format_usd(value - r.spend_micros) + "\n";
  return out;
}

}  // namespace

std::string describe(const Margins& m) {
  std::string out =
      "margins, last " + std::to_string(m.days) + " days (UTC; 1 Star = " + format_usd(m.usd_micros_per_star) + "):\n";
  MarginRow total;
  for (const auto& r : m.rows) {
    out += "  " + line(iso_day(r.day) + " " + r.plan, r, m.usd_micros_per_star);
    total.images += r.images;
    total.spend_micros += r.spend_micros;
    total.unpriced += r.unpriced;
    total.stars += r.stars;
  }
  if (m.rows.empty()) out += "  nothing generated or paid\n";
  out += "  " + line("total", total, m.usd_micros_per_star);
  out += "spend today " + format_usd(m.spend_today_micros);
  if (m.spend_limit_micros > 0) {
    out += " of " + format_usd(m.spend_limit_micros) + " (DAILY_SPEND_LIMIT_USD)";
    if (m.spend_today_micros >= m.spend_limit_micros) out += ": free generations paused until 00:00 UTC";
  }
  out += "\n";
  return out;
}

}  // namespace igb::core
