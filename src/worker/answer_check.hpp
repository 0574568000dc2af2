#pragma once
// What the worker accepts from a provider, by size. Providers do not always return the size asked for:
// they round up to multiples of 16 or 64, and some only make a few fixed sizes (gpt-image-1: 1024x1024,
// 1536x1024, 1024x1536; DALL-E 3 up to 1792x1024), so a 256x256 request may come back as 1024x1024.
// An answer far beyond that is a broken or hostile provider: it would cost decoding memory, disk and
// upload time for an image nobody asked for. The rule (also in docs/security.md):
//   each side at most max(2 x the requested side, 2048), and
//   width x height at most max(4 x the requested pixels, 2048 x 1024),
//   never above the absolute 8192x8192.
// A larger answer is a failure of that provider (retry_later): the router counts it against the
// backend and fails over to the next one; if none gives a fitting image the job is retried and, in the
// end, fails with the user's quota given back, like any other bad output.
#include <optional>

#include "gen/backend.hpp"
#include "imaging/decode.hpp"

namespace igb::worker {

// Room for the providers' own fixed sizes, whatever was asked for.
inline constexpr int kAnswerSideAllowance = 2048;
inline constexpr std::int64_t kAnswerPixelAllowance = std::int64_t{2048} * 1024;

// The largest image accepted for a request of requested_width x requested_height.
imaging::InspectLimits answer_limits(int requested_width, int requested_height);

// From the image's headers only (cheap: runs on the router's executor): nullopt if the answer is an
// image within answer_limits(request), else a retry_later failure saying why. The full decode
// happens when the image is stored, under the same limits.
std::optional<gen::GenerationFailure> check_answer(const gen::GenerationRequest& request,
                                                   const gen::GeneratedImage& image);

}  // namespace igb::worker
