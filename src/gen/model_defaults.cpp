#include "gen/model_defaults.hpp"

#include <algorithm>

#include "util/strings.hpp"

namespace igb::gen {

const ModelDefaults& defaults_for(std::string_view hf_model) {
  static const ModelDefaults kSchnell{
      .min_steps = 1, .max_steps = 4, .default_steps = 4, .guidance = 0.0, .size_multiple = 16, .max_side = 2048};
  static const ModelDefaults kDev{
      .min_steps = 1, .max_steps = 50, .default_steps = 28, .guidance = 3.5, .size_multiple = 16, .max_side = 2048};
  static const ModelDefaults kOther{};
  const auto model = util::to_lower(hf_model);
  if (model == "black-forest-labs/flux.1-schnell") return kSchnell;
  if (model == "black-forest-labs/flux.1-dev") return kDev;
  return kOther;
}

GenerationRequest apply_model_defaults(GenerationRequest r, const ModelDefaults& d) {
  r.steps = r.steps <= 0 ? d.default_steps : std::clamp(r.steps, d.min_steps, d.max_steps);
  const int m = std::max(1, d.size_multiple);
  auto side = [&](int v) { return std::clamp(v / m * m, m, d.max_side / m * m); };
  r.width = side(r.width);
  r.height = side(r.height);
  return r;
}

}  // namespace igb::gen
