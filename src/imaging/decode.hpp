#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace igb::imaging {

enum class ImageType { png, jpeg, webp };

const char* mime_of(ImageType type);       // "image/png", "image/jpeg", "image/webp"
const char* extension_of(ImageType type);  // "png", "jpg", "webp"
std::optional<ImageType> image_type_from_mime(std::string_view mime);

struct ImageInfo {
  ImageType type = ImageType::png;
  int width = 0;
  int height = 0;
};

// Checked before any decoding: larger images are refused from their headers alone.
inline constexpr int kMaxImageSide = 8192;
inline constexpr std::size_t kMaxImageBytes = std::size_t{64} << 20;

// Sniffs the type from the magic bytes (never trusts a Content-Type) and fully decodes the image with
// libpng / libjpeg-turbo / libwebp, so truncation and corruption are caught; the pixels are discarded.
// Failures are ErrorCode::invalid_argument; internal_detail says what is wrong ("not an image (starts
// with '<!DOCTYPE html>')", "truncated PNG", "corrupt JPEG: …", "image too large: …").
// Safe to call from many threads at once.
[[nodiscard]] core::Result<ImageInfo> inspect(std::string_view bytes);

}  // namespace igb::imaging
