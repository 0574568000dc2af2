// Image inspection: provider output (and anything fetched from a provider's URL) is decoded with
// libpng, libjpeg-turbo and libwebp before it is stored or sent. inspect() must reject, not crash.
#include "fuzz_input.hpp"
#include "imaging/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto info = igb::imaging::inspect(igb::fuzz::as_view(data, size));
  if (info) {
    IGB_FUZZ_CHECK(info->width > 0 && info->height > 0);
    IGB_FUZZ_CHECK(info->width <= igb::imaging::kMaxImageSide && info->height <= igb::imaging::kMaxImageSide);
  } else {
    IGB_FUZZ_CHECK(info.error().code == igb::core::ErrorCode::invalid_argument);
  }
  return 0;
}
