#pragma once
// Per-model generation defaults where models differ: the steps range, the guidance scale and the
// multiple image sides must be, applied to a request before any provider's body is built.
#include <optional>
#include <string_view>

#include "gen/backend.hpp"

namespace igb::gen {

struct ModelDefaults {
  int min_steps = 1;
  int max_steps = 50;
  int default_steps = 28;           // when the request says 0 or less
  std::optional<double> guidance;   // guidance_scale to send; nullopt: leave it to the provider
  int size_multiple = 8;            // sides rounded down to it (never below it)
  int max_side = 2048;
};

// FLUX.1-schnell: steps 1-4 (default 4), guidance 0 (it is guidance-distilled), sides multiple of 16.
// FLUX.1-dev: steps 1-50 (default 28), guidance 3.5, sides multiple of 16. Anything else: the
// general defaults above.
const ModelDefaults& defaults_for(std::string_view hf_model);

// The request with steps clamped into the model's range and sides rounded to its multiple.
GenerationRequest apply_model_defaults(GenerationRequest request, const ModelDefaults& defaults);

}  // namespace igb::gen
