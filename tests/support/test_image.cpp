#include "support/test_image.hpp"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

namespace igb::imaging {
namespace {

void check_size(int width, int height, int max_side, const char* format) {
  if (width <= 0 || height <= 0 || width > max_side || height > max_side) {
    throw std::invalid_argument(std::string(format) + " cannot be " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
}

// Packed RGB: red across, green down, blue along the diagonal, each offset by a byte of the seed.
std::vector<unsigned char> gradient(int width, int height, std::uint32_t seed) {
  std::vector<unsigned char> rgb(static_cast<std::size_t>(width) * height * 3);
  const unsigned r0 = seed & 0xFF, g0 = (seed >> 8) & 0xFF, b0 = (seed >> 16) & 0xFF;
  const unsigned b1 = (seed >> 24) & 0xFF;
  std::size_t i = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      rgb[i++] = static_cast<unsigned char>(r0 + x * 255u / width);
      rgb[i++] = static_cast<unsigned char>(g0 + y * 255u / height);
      rgb[i++] = static_cast<unsigned char>(b0 + b1 + (x + y) * 255u / (width + height));
    }
  }
  return rgb;
}

// libjpeg's default error handler calls exit(); this one longjmps back to encode_jpeg.
struct JpegErrors {
  jpeg_error_mgr mgr;  // first, so libjpeg's pointer to it is a pointer to the whole
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_on_error_exit(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  cinfo->err->format_message(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

void jpeg_output_nothing(j_common_ptr) {}

// Returns false (errors->message says why) instead of throwing: the longjmp in between must not skip
// destructors. On success *out / *out_size hold a malloc'ed buffer the caller frees.
bool encode_jpeg(const unsigned char* rgb, int width, int height, int quality, JpegErrors* errors, unsigned char** out,
                 unsigned long* out_size) {
  jpeg_compress_struct cinfo{};
  cinfo.err = jpeg_std_error(&errors->mgr);
  errors->mgr.error_exit = jpeg_on_error_exit;
  errors->mgr.output_message = jpeg_output_nothing;
  // jpeg_mem_dest frees its first buffer when it grows but reports the new one only at the end, so
  // after an error `buffer` may dangle: it is then leaked rather than freed twice (encoding fails
  // only on a bug of ours).
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (setjmp(errors->jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<unsigned char*>(rgb) + std::size_t{cinfo.next_scanline} * width * 3;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  *out = buffer;
  *out_size = size;
  return true;
}

}  // namespace

std::string make_png(int width, int height, std::uint32_t seed) {
  check_size(width, height, 1 << 20, "PNG");
  const auto rgb = gradient(width, height, seed);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  // An upper bound, so one pass suffices.
  std::string out(PNG_IMAGE_PNG_SIZE_MAX(image), '\0');
  png_alloc_size_t size = out.size();
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, rgb.data(), 0, nullptr)) {
    std::string message = image.message;
    png_image_free(&image);
    throw std::runtime_error("PNG encoding failed: " + message);
  }
  out.resize(size);
  return out;
}

std::string make_jpeg(int width, int height, std::uint32_t seed, int quality) {
  check_size(width, height, JPEG_MAX_DIMENSION, "JPEG");
  if (quality < 1 || quality > 100) throw std::invalid_argument("JPEG quality must be 1..100");
  const auto rgb = gradient(width, height, seed);
  JpegErrors errors{};
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (!encode_jpeg(rgb.data(), width, height, quality, &errors, &buffer, &size)) {
    throw std::runtime_error(std::string("JPEG encoding failed: ") + errors.message);
  }
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return out;
}

std::string make_webp(int width, int height, std::uint32_t seed) {
  check_size(width, height, WEBP_MAX_DIMENSION, "WebP");
  const auto rgb = gradient(width, height, seed);
  std::uint8_t* encoded = nullptr;
  const std::size_t size = WebPEncodeRGB(rgb.data(), width, height, width * 3, 80.0F, &encoded);
  if (size == 0) throw std::runtime_error("WebP encoding failed");
  std::string out(reinterpret_cast<const char*>(encoded), size);
  WebPFree(encoded);
  return out;
}

std::string make_webp_with_alpha(int width, int height, std::uint32_t seed, WebPKind kind) {
  check_size(width, height, WEBP_MAX_DIMENSION, "WebP");
  const auto rgb = gradient(width, height, seed);
  std::vector<std::uint8_t> rgba(static_cast<std::size_t>(width) * height * 4);
  for (std::size_t p = 0; p < rgba.size() / 4; ++p) {
    std::memcpy(&rgba[p * 4], &rgb[p * 3], 3);
    rgba[p * 4 + 3] = static_cast<std::uint8_t>(255 - (p % static_cast<std::size_t>(width)) * 255 / width);
  }
  std::uint8_t* encoded = nullptr;
  const std::size_t size = kind == WebPKind::lossless
                               ? WebPEncodeLosslessRGBA(rgba.data(), width, height, width * 4, &encoded)
                               : WebPEncodeRGBA(rgba.data(), width, height, width * 4, 80.0F, &encoded);
  if (size == 0) throw std::runtime_error("WebP encoding failed");
  std::string out(reinterpret_cast<const char*>(encoded), size);
  WebPFree(encoded);
  return out;
}

std::string make_image(ImageType type, int width, int height, std::uint32_t seed) {
  switch (type) {
    case ImageType::png: return make_png(width, height, seed);
    case ImageType::jpeg: return make_jpeg(width, height, seed);
    case ImageType::webp: return make_webp(width, height, seed);
  }
  throw std::invalid_argument("unknown image type");
}

}  // namespace igb::imaging
