#pragma once
#include <cstdint>
#include <string>

#include "imaging/decode.hpp"

namespace igb::imaging {

// Valid images for tests, fakes and benchmarks (the product only decodes, so the encoders live here):
// a width x height gradient whose colours depend on `seed` (different seeds give different bytes).
// Throws std::invalid_argument for sizes the format cannot hold, std::runtime_error if the encoder
// fails. In namespace imaging, next to the ImageType it makes.
std::string make_png(int width, int height, std::uint32_t seed = 0);
std::string make_jpeg(int width, int height, std::uint32_t seed = 0, int quality = 85);
std::string make_webp(int width, int height, std::uint32_t seed = 0);
std::string make_image(ImageType type, int width, int height, std::uint32_t seed = 0);
// A WebP with an alpha channel (a VP8X file): lossy (VP8 + ALPH) or lossless (VP8L).
enum class WebPKind { lossy, lossless };
std::string make_webp_with_alpha(int width, int height, std::uint32_t seed, WebPKind kind);

}  // namespace igb::imaging
