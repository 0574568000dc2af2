#include "imaging/decode.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

// jpeglib.h needs <cstdio> before it.
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

namespace igb::imaging {

const char* mime_of(ImageType type) {
  switch (type) {
    case ImageType::png: return "image/png";
    case ImageType::jpeg: return "image/jpeg";
    case ImageType::webp: return "image/webp";
  }
  return "application/octet-stream";
}

const char* extension_of(ImageType type) {
  switch (type) {
    case ImageType::png: return "png";
    case ImageType::jpeg: return "jpg";
    case ImageType::webp: return "webp";
  }
  return "bin";
}

std::optional<ImageType> image_type_from_mime(std::string_view mime) {
  if (mime == "image/png") return ImageType::png;
  if (mime == "image/jpeg") return ImageType::jpeg;
  if (mime == "image/webp") return ImageType::webp;
  return std::nullopt;
}

namespace {

using core::ErrorCode;

// Rows are decoded one at a time into one buffer: up to 16 bytes a pixel (16-bit RGBA PNG is 8; a JPEG
// may have up to 10 components), so max_width x 16 bytes.
constexpr std::size_t kBytesPerPixelOfRow = 16;
// Progressive and multi-scan JPEGs keep every coefficient in memory: 2 bytes a pixel per
// full-resolution component (128 MiB at 8192x8192). The limit admits four such components of the
// largest acceptable image (8 bytes a pixel), plus room for libjpeg's tables and rows, and stops
// pathological files; never more than 512 MiB.
constexpr long kMaxJpegMemory = 512L << 20;
constexpr long kJpegMemoryPerPixel = 8;
constexpr long kJpegMemorySlack = 8L << 20;
// WebP output is scaled into at most this many pixels a side (16 KiB of RGBA): libwebp still decodes
// every macroblock (or every lossless pixel), so corruption anywhere is caught, but the decoded image
// is never held at full size.
constexpr int kWebpProbeSide = 64;
// Each progressive scan re-reads the whole coefficient buffer; thousands of tiny scans are a known
// way to make a small file take minutes to decode. Real encoders write about ten.
constexpr int kMaxJpegScans = 256;

constexpr const char* kTooLarge = "the image is too large";

core::Error invalid(std::string detail) {
  return core::make_error(ErrorCode::invalid_argument, "not a valid PNG, JPEG or WebP image", std::move(detail));
}

// The caller's limits, never above the absolute ones (nor below one pixel).
InspectLimits normalized(const InspectLimits& limits) {
  constexpr std::int64_t kMaxPixels = std::int64_t{kMaxImageSide} * kMaxImageSide;
  return {.max_width = std::clamp(limits.max_width, 1, kMaxImageSide),
          .max_height = std::clamp(limits.max_height, 1, kMaxImageSide),
          .max_pixels = std::clamp<std::int64_t>(limits.max_pixels, 1, kMaxPixels)};
}

std::optional<core::Error> check_dimensions(std::uint64_t width, std::uint64_t height, const InspectLimits& limits) {
  const auto too_large = [](std::string detail) {
    return core::make_error(ErrorCode::invalid_argument, kTooLarge, std::move(detail));
  };
  if (width > static_cast<std::uint64_t>(limits.max_width) || height > static_cast<std::uint64_t>(limits.max_height)) {
    return too_large("image too large: " + std::to_string(width) + "x" + std::to_string(height) + " (limit " +
                     std::to_string(limits.max_width) + "x" + std::to_string(limits.max_height) + ")");
  }
  // Both sides are at most 8192 here: the product cannot overflow.
  if (width * height > static_cast<std::uint64_t>(limits.max_pixels)) {
    return too_large("image too large: " + std::to_string(width) + "x" + std::to_string(height) + " is " +
                     std::to_string(width * height) + " pixels (limit " + std::to_string(limits.max_pixels) + ")");
  }
  return std::nullopt;
}

// The first bytes for a log line: printable ASCII as is, anything else as \xNN.
std::string describe_start(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 16)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  return out;
}

constexpr std::string_view kPngMagic("\x89PNG\r\n\x1a\n", 8);
constexpr std::string_view kJpegMagic("\xff\xd8\xff", 3);

// Whole magic present: it is that type. Input shorter than the magic and a prefix of it: truncated.
enum class Match { no, yes, truncated };
Match match_magic(std::string_view bytes, std::string_view magic) {
  if (bytes.starts_with(magic)) return Match::yes;
  if (bytes.size() < magic.size() && magic.starts_with(bytes)) return Match::truncated;
  return Match::no;
}

core::Result<ImageType> sniff(std::string_view bytes) {
  if (bytes.empty()) return invalid("not an image (empty body)");
  switch (match_magic(bytes, kPngMagic)) {
    case Match::yes: return ImageType::png;
    case Match::truncated: return invalid("truncated PNG");
    case Match::no: break;
  }
  switch (match_magic(bytes, kJpegMagic)) {
    case Match::yes: return ImageType::jpeg;
    case Match::truncated: return invalid("truncated JPEG");
    case Match::no: break;
  }
  // RIFF is also WAV and AVI: only "RIFF" <size> "WEBP" is ours.
  if (match_magic(bytes, "RIFF") != Match::no) {
    if (bytes.size() < 12) return invalid("truncated WebP");
    if (bytes.substr(8, 4) == "WEBP") return ImageType::webp;
  }
  if (bytes.starts_with("GIF87a") || bytes.starts_with("GIF89a")) {
    return invalid("unsupported image type GIF");
  }
  if (bytes.size() >= 12 && bytes.substr(4, 4) == "ftyp") {  // ISO BMFF: AVIF, HEIC, MP4…
    return invalid("unsupported image type (ISO BMFF brand '" + describe_start(bytes.substr(8, 4)) + "')");
  }
  return invalid("not an image (starts with '" + describe_start(bytes) + "')");
}

// --- PNG -------------------------------------------------------------------------------------------
// libpng reports errors by longjmp: between the setjmp in decode_png_rows and any png_error, only
// trivially destructible objects may live (the jump skips destructors).

struct PngSource {
  const unsigned char* data;
  std::size_t size;
  std::size_t pos;
  bool ran_out;
  char message[256];
};

void png_read_source(png_structp png, png_bytep out, std::size_t n) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > source->size - source->pos) {
    source->ran_out = true;
    png_error(png, "unexpected end of data");
  }
  std::memcpy(out, source->data + source->pos, n);
  source->pos += n;
}

void png_on_error(png_structp png, png_const_charp message) {
  auto* source = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(source->message, sizeof source->message, "%s", message);
  png_longjmp(png, 1);
}

// Warnings are about ancillary chunks (bad sRGB profile, text); the pixels are still good.
void png_on_warning(png_structp, png_const_charp) {}

bool decode_png_rows(PngSource* source, unsigned char* row, std::size_t row_capacity, const InspectLimits& limits) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, png_on_error, png_on_warning);
  if (png == nullptr) throw std::bad_alloc();
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw std::bad_alloc();
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_user_limits(png, static_cast<png_uint_32>(limits.max_width), static_cast<png_uint_32>(limits.max_height));
  png_set_read_fn(png, source, png_read_source);
  png_read_info(png, info);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) > row_capacity) png_error(png, "row too large");
  const png_uint_32 height = png_get_image_height(png, info);
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < height; ++y) png_read_row(png, row, nullptr);
  }
  png_read_end(png, nullptr);  // the chunks after the image data, through IEND and its CRC
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

std::uint32_t read_be32(std::string_view bytes, std::size_t at) {
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

std::uint32_t read_le32(std::string_view bytes, std::size_t at) {
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])); };
  return b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24);
}

core::Result<ImageInfo> png_header(std::string_view bytes, const InspectLimits& limits) {
  // Signature, then IHDR: length, "IHDR", width, height. The size check needs nothing else.
  if (bytes.size() < 24) return invalid("truncated PNG");
  if (bytes.substr(12, 4) != "IHDR") return invalid("corrupt PNG: the first chunk is not IHDR");
  const std::uint32_t width = read_be32(bytes, 16);
  const std::uint32_t height = read_be32(bytes, 20);
  if (auto error = check_dimensions(width, height, limits)) return *std::move(error);
  if (width == 0 || height == 0) return invalid("corrupt PNG: IHDR: zero width or height");
  return ImageInfo{.type = ImageType::png, .width = static_cast<int>(width), .height = static_cast<int>(height)};
}

core::Result<ImageInfo> inspect_png(std::string_view bytes, const InspectLimits& limits) {
  auto info = png_header(bytes, limits);
  if (!info) return info;
  PngSource source{.data = reinterpret_cast<const unsigned char*>(bytes.data()),
                   .size = bytes.size(),
                   .pos = 0,
                   .ran_out = false,
                   .message = {}};
  const std::size_t row_capacity = static_cast<std::size_t>(limits.max_width) * kBytesPerPixelOfRow;
  std::vector<unsigned char> row(row_capacity);
  if (!decode_png_rows(&source, row.data(), row_capacity, limits)) {
    if (source.ran_out) return invalid("truncated PNG");
    return invalid(std::string("corrupt PNG: ") + source.message);
  }
  return info;
}

// --- JPEG ------------------------------------------------------------------------------------------
// The default libjpeg error handler prints and calls exit(). Ours longjmps back to decode_jpeg_rows,
// with the same rule as for PNG about what may live in between.

struct JpegErrors {
  jpeg_error_mgr mgr;  // first, so libjpeg's pointer to it is a pointer to the whole
  std::jmp_buf jump;
  bool ran_out;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  if (cinfo->err->msg_code == JERR_NO_BACKING_STORE) {
    std::snprintf(errors->message, sizeof errors->message, "needs more than %ld MiB to decode",
                  cinfo->mem->max_memory_to_use >> 20);
  } else {
    cinfo->err->format_message(cinfo, errors->message);
  }
  std::longjmp(errors->jump, 1);
}

void jpeg_on_error_exit(j_common_ptr cinfo) { jpeg_fail(cinfo); }

// Level -1 is a warning. libjpeg "recovers" from truncation and corrupt entropy data with a warning
// and grey pixels; for us those are errors. Only metadata oddities pass.
void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace output
  const int code = cinfo->err->msg_code;
  if (code == JWRN_ADOBE_XFORM || code == JWRN_JFIF_MAJOR) return;
  if (code == JWRN_JPEG_EOF) reinterpret_cast<JpegErrors*>(cinfo->err)->ran_out = true;
  jpeg_fail(cinfo);
}

void jpeg_output_nothing(j_common_ptr) {}

void jpeg_limit_scans(j_common_ptr cinfo) {
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > kMaxJpegScans) {
    auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
    std::snprintf(errors->message, sizeof errors->message, "more than %d scans", kMaxJpegScans);
    std::longjmp(errors->jump, 1);
  }
}

struct JpegOutcome {
  unsigned width;
  unsigned height;
  bool too_large;
};

// row == nullptr: read the header and the size check only.
bool decode_jpeg_rows(std::string_view bytes, JpegErrors* errors, unsigned char* row, std::size_t row_capacity,
                      const InspectLimits& limits, JpegOutcome* outcome) {
  jpeg_decompress_struct cinfo{};  // zeroed, so destroying it is safe even if create fails
  jpeg_progress_mgr progress{};
  cinfo.err = jpeg_std_error(&errors->mgr);
  errors->mgr.error_exit = jpeg_on_error_exit;
  errors->mgr.emit_message = jpeg_on_message;
  errors->mgr.output_message = jpeg_output_nothing;
  if (setjmp(errors->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.mem->max_memory_to_use =
      std::min(kMaxJpegMemory, static_cast<long>(limits.max_pixels) * kJpegMemoryPerPixel + kJpegMemorySlack);
  progress.progress_monitor = jpeg_limit_scans;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  outcome->width = cinfo.image_width;
  outcome->height = cinfo.image_height;
  // Before jpeg_start_decompress, which allocates the coefficient buffers of progressive files.
  if (check_dimensions(cinfo.image_width, cinfo.image_height, limits)) {
    outcome->too_large = true;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  if (row == nullptr) {
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  jpeg_start_decompress(&cinfo);
  if (static_cast<std::size_t>(cinfo.output_width) * cinfo.output_components > row_capacity) {
    std::snprintf(errors->message, sizeof errors->message, "row too large");
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  JSAMPROW rows[1] = {row};
  while (cinfo.output_scanline < cinfo.output_height) {
    if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
      std::snprintf(errors->message, sizeof errors->message, "decoder stalled");
      jpeg_destroy_decompress(&cinfo);
      return false;
    }
  }
  jpeg_finish_decompress(&cinfo);  // reads on to EOI, so a missing end is noticed
  jpeg_destroy_decompress(&cinfo);
  return true;
}

core::Result<ImageInfo> inspect_jpeg(std::string_view bytes, const InspectLimits& limits, bool header_only) {
  JpegErrors errors{};
  JpegOutcome outcome{};
  const std::size_t row_capacity = static_cast<std::size_t>(limits.max_width) * kBytesPerPixelOfRow;
  std::vector<unsigned char> row(header_only ? 0 : row_capacity);
  if (!decode_jpeg_rows(bytes, &errors, header_only ? nullptr : row.data(), row_capacity, limits, &outcome)) {
    if (outcome.too_large) return *check_dimensions(outcome.width, outcome.height, limits);
    if (errors.ran_out) return invalid("truncated JPEG");
    std::string_view message = errors.message;
    if (message.starts_with("Corrupt JPEG data: ")) message.remove_prefix(19);
    return invalid("corrupt JPEG: " + std::string(message));
  }
  return ImageInfo{
      .type = ImageType::jpeg, .width = static_cast<int>(outcome.width), .height = static_cast<int>(outcome.height)};
}

// --- WebP ------------------------------------------------------------------------------------------
// WebPDecode rather than WebPDecodeRGBA: the same decoder, but it says why it failed.
// NOT_ENOUGH_DATA is also what a corrupt lossy stream gives (the decoder runs off the end of a
// partition), so truncation is told apart by the RIFF size before decoding.

core::Error webp_error(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_NOT_ENOUGH_DATA:
    case VP8_STATUS_SUSPENDED:  // partitions that end past the data
      return invalid("corrupt WebP: premature end of data");
    case VP8_STATUS_OUT_OF_MEMORY: throw std::bad_alloc();
    case VP8_STATUS_UNSUPPORTED_FEATURE: return invalid("unsupported WebP feature");
    case VP8_STATUS_BITSTREAM_ERROR: return invalid("corrupt WebP: bitstream error");
    default: return invalid("corrupt WebP: status " + std::to_string(static_cast<int>(status)));
  }
}

core::Result<ImageInfo> inspect_webp(std::string_view bytes, const InspectLimits& limits, bool header_only) {
  // "RIFF", then the size of what follows it, little-endian.
  const std::uint64_t riff_size = std::uint64_t{read_le32(bytes, 4)} + 8;
  if (bytes.size() < riff_size) return invalid("truncated WebP");
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) throw std::runtime_error("libwebp ABI mismatch");
  // Reads the RIFF, VP8X and VP8/VP8L frame headers only.
  if (auto status = WebPGetFeatures(data, bytes.size(), &config.input); status != VP8_STATUS_OK) {
    return webp_error(status);
  }
  const int width = config.input.width;
  const int height = config.input.height;
  if (auto error = check_dimensions(width, height, limits)) return *std::move(error);
  if (config.input.has_animation) return invalid("unsupported WebP feature: animation");
  const ImageInfo info{.type = ImageType::webp, .width = width, .height = height};
  if (header_only) return info;
  // Scaled output: libwebp decodes the whole bitstream and feeds each row to its rescaler, which keeps
  // a few output rows; WebPDecode allocates only the small output buffer (freed below). Scaling down a
  // lossy image skips the in-loop filter, which reads nothing from the bitstream.
  config.options.use_scaling = 1;
  config.options.scaled_width = std::min(width, kWebpProbeSide);
  config.options.scaled_height = std::min(height, kWebpProbeSide);
  config.output.colorspace = MODE_RGBA;
  const VP8StatusCode status = WebPDecode(data, bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);
  if (status != VP8_STATUS_OK) return webp_error(status);
  return info;
}

}  // namespace

namespace {

core::Result<ImageInfo> check(std::string_view bytes, const InspectLimits& requested, bool header_only) {
  if (bytes.size() > kMaxImageBytes) {
    return core::make_error(
        ErrorCode::invalid_argument, kTooLarge,
        "image too large: " + std::to_string(bytes.size()) + " bytes (limit " + std::to_string(kMaxImageBytes) + ")");
  }
  const InspectLimits limits = normalized(requested);
  auto type = sniff(bytes);
  if (!type) return std::move(type).error();
  switch (*type) {
    case ImageType::png: return header_only ? png_header(bytes, limits) : inspect_png(bytes, limits);
    case ImageType::jpeg: return inspect_jpeg(bytes, limits, header_only);
    case ImageType::webp: return inspect_webp(bytes, limits, header_only);
  }
  return invalid("unknown image type");
}

}  // namespace

bool is_too_large(const core::Error& error) {
  return error.code == ErrorCode::invalid_argument && error.public_message == kTooLarge;
}

core::Result<ImageInfo> inspect(std::string_view bytes, const InspectLimits& limits) {
  return check(bytes, limits, false);
}

core::Result<ImageInfo> read_header(std::string_view bytes, const InspectLimits& limits) {
  return check(bytes, limits, true);
}

}  // namespace igb::imaging
