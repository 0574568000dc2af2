#include "core/dimensions.hpp"

#include <algorithm>
#include <cmath>

#include "util/strings.hpp"

namespace igb::core {

std::optional<std::pair<int, int>> parse_aspect_ratio(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto w = util::parse_int(text.substr(0, colon));
  auto h = util::parse_int(text.substr(colon + 1));
  if (!w || !h || *w < 1 || *h < 1 || *w > 21 || *h > 21) return std::nullopt;
  if (*w > 4 * *h || *h > 4 * *w) return std::nullopt;
  return std::pair<int, int>{static_cast<int>(*w), static_cast<int>(*h)};
}

Dimensions dimensions_for(std::pair<int, int> ratio, int max_pixels, int max_side) {
  const double pixels = std::min(max_pixels, 1024 * 1024);
  const double r = static_cast<double>(ratio.first) / ratio.second;
  const int side_multiple_of_16 = max_side / 16 * 16;  // rounded down on purpose
  const double side_limit = side_multiple_of_16;
  double w = std::sqrt(pixels * r);
  double h = w / r;
  const double shrink = std::max({1.0, w / side_limit, h / side_limit});  // keep the ratio within max_side
  w /= shrink;
  h /= shrink;
  int width = std::clamp(static_cast<int>(w) / 16 * 16, 256, static_cast<int>(side_limit));
  int height = std::clamp(static_cast<int>(h) / 16 * 16, 256, static_cast<int>(side_limit));
  while (static_cast<long long>(width) * height > max_pixels && width > 256 && height > 256) {
    if (width >= height)
      width -= 16;
    else
      height -= 16;
  }
  return {width, height};
}

Dimensions fit_to_plan(std::pair<int, int> ratio, const Plan& plan) {
  return dimensions_for(ratio, plan.max_pixels, plan.max_side);
}

}  // namespace igb::core
