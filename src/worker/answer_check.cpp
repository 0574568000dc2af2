#include "worker/answer_check.hpp"

#include <algorithm>
#include <string>

namespace igb::worker {

imaging::InspectLimits answer_limits(int requested_width, int requested_height) {
  const std::int64_t w = std::clamp(requested_width, 1, imaging::kMaxImageSide);
  const std::int64_t h = std::clamp(requested_height, 1, imaging::kMaxImageSide);
  const auto side = [](std::int64_t requested) {
    return static_cast<int>(
        std::min<std::int64_t>(std::max<std::int64_t>(2 * requested, kAnswerSideAllowance), imaging::kMaxImageSide));
  };
  // inspect() caps the pixel count at 8192x8192 itself.
  return {.max_width = side(w), .max_height = side(h), .max_pixels = std::max(4 * w * h, kAnswerPixelAllowance)};
}

std::optional<gen::GenerationFailure> check_answer(const gen::GenerationRequest& request,
                                                   const gen::GeneratedImage& image) {
  auto header = imaging::read_header(image.bytes, answer_limits(request.width, request.height));
  if (header) return std::nullopt;
  const bool too_large = imaging::is_too_large(header.error());
  const std::string asked = std::to_string(request.width) + "x" + std::to_string(request.height);
  return gen::GenerationFailure{
      .kind = gen::FailureKind::retry_later,
      .detail = too_large ? "the provider's image is far larger than the " + asked +
                                " requested: " + header.error().internal_detail
                          : "the provider's answer is not a valid image: " + header.error().internal_detail};
}

}  // namespace igb::worker
