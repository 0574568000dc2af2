#pragma once
// Image sizes from an aspect ratio: what "--ar 16:9" (bot) and "aspect_ratio": "16:9" (API) mean.
#include <optional>
#include <string_view>
#include <utility>

#include "core/model.hpp"

namespace igb::core {

struct Dimensions {
  int width = 0;
  int height = 0;
};

// "W:H" with 1 ≤ W, H ≤ 21 and a ratio between 1:4 and 4:1; nullopt otherwise.
std::optional<std::pair<int, int>> parse_aspect_ratio(std::string_view text);

// The largest size with that ratio whose sides are multiples of 16, within `max_pixels` (and at most
// one megapixel, FLUX.1-schnell's native size) and `max_side`.
Dimensions dimensions_for(std::pair<int, int> ratio, int max_pixels, int max_side);

// The size a plan allows for `ratio`: what a prompt's "--ar" (bot) and a request's "aspect_ratio"
// (API) become, and the bot's default when neither is given (1:1).
Dimensions fit_to_plan(std::pair<int, int> ratio, const Plan& plan);

}  // namespace igb::core
