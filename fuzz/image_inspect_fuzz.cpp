// Image inspection: provider output (and anything fetched from a provider's URL) is decoded with
// libpng, libjpeg-turbo and libwebp before it is stored or sent. inspect() must reject, not crash;
// read_header() must agree with it on what it accepts; and under small limits (what a worker passes
// for a small request) an image is either accepted within them or refused for its size.
#include "fuzz_input.hpp"
#include "imaging/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using igb::imaging::InspectLimits;
  const auto bytes = igb::fuzz::as_view(data, size);
  auto info = igb::imaging::inspect(bytes);
  if (info) {
    IGB_FUZZ_CHECK(info->width > 0 && info->height > 0);
    IGB_FUZZ_CHECK(info->width <= igb::imaging::kMaxImageSide && info->height <= igb::imaging::kMaxImageSide);
    auto header = igb::imaging::read_header(bytes);
    IGB_FUZZ_CHECK(header && header->type == info->type && header->width == info->width &&
                   header->height == info->height);
  } else {
    IGB_FUZZ_CHECK(info.error().code == igb::core::ErrorCode::invalid_argument);
  }

  constexpr InspectLimits kSmall{.max_width = 256, .max_height = 256, .max_pixels = 256 * 128};
  auto limited = igb::imaging::inspect(bytes, kSmall);
  if (limited) {
    IGB_FUZZ_CHECK(info && limited->width == info->width && limited->height == info->height);
    IGB_FUZZ_CHECK(limited->width <= kSmall.max_width && limited->height <= kSmall.max_height &&
                   std::int64_t{limited->width} * limited->height <= kSmall.max_pixels);
  } else {
    IGB_FUZZ_CHECK(limited.error().code == igb::core::ErrorCode::invalid_argument);
    // Accepted without limits, refused with them: only ever for its size.
    IGB_FUZZ_CHECK(!info || igb::imaging::is_too_large(limited.error()));
  }
  return 0;
}
