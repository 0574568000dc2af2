#pragma once
#include <cstddef>
#include <cstdint>
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

// The largest image a caller accepts. The defaults are the absolute limits above; a caller that knows
// what it asked for passes less (the worker: worker/answer_limits.hpp), and then decoding memory is
// bounded by that, not by 8192x8192. Values above the absolute limits count as those limits.
struct InspectLimits {
  int max_width = kMaxImageSide;
  int max_height = kMaxImageSide;
  std::int64_t max_pixels = std::int64_t{kMaxImageSide} * kMaxImageSide;
};

// Sniffs the type from the magic bytes (never trusts a Content-Type) and fully decodes the image with
// libpng / libjpeg-turbo / libwebp, so truncation and corruption are caught; the pixels are discarded.
// Failures are ErrorCode::invalid_argument; internal_detail says what is wrong ("not an image (starts
// with '<!DOCTYPE html>')", "truncated PNG", "corrupt JPEG: …", "image too large: …").
// Safe to call from many threads at once.
//
// The dimensions are checked against `limits` from the headers, before any memory that grows with the
// image is allocated. What one call holds while decoding an image of at most W x H = P pixels:
// - PNG: one row (W x 16 bytes at most) and libpng's own two rows; interlaced files the same.
// - JPEG: a few rows for baseline files; progressive ones keep every DCT coefficient, capped at
//   8 bytes per pixel of `limits.max_pixels` (+ 8 MiB, at most 512 MiB): four full-size components.
// - WebP: the output is scaled into a 64x64 buffer (16 KiB), so the decoded RGBA image is never held;
//   libwebp itself keeps a few macroblock rows of a lossy image without alpha (about 100 bytes x W);
//   an alpha channel or a lossless image makes it hold the whole picture, about 4 x P bytes (lossless
//   back-references reach any earlier pixel). Before, every WebP also took 4 x P bytes of RGBA output
//   (256 MiB at 8192x8192). Measured by imggenbot-bench-decode (docs/benchmarks.md).
[[nodiscard]] core::Result<ImageInfo> inspect(std::string_view bytes, const InspectLimits& limits);
[[nodiscard]] inline core::Result<ImageInfo> inspect(std::string_view bytes) { return inspect(bytes, InspectLimits{}); }

// Type and dimensions from the headers alone, checked against `limits`: nothing is decoded and nothing
// that grows with the image is allocated, so it is cheap enough for an I/O thread. It does not prove the
// image valid (inspect() does); a failure here is one inspect() would give too.
[[nodiscard]] core::Result<ImageInfo> read_header(std::string_view bytes, const InspectLimits& limits = {});

// Whether inspect() or read_header() refused the image for its size (dimensions, pixels or bytes).
bool is_too_large(const core::Error& error);

}  // namespace igb::imaging
