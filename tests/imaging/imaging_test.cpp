#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "imaging/decode.hpp"
#include "support/test_image.hpp"
#include "imaging/image_store.hpp"
#include "util/crypto.hpp"

namespace igb::imaging {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr ImageType kAllTypes[] = {ImageType::png, ImageType::jpeg, ImageType::webp};

std::string type_name(const ::testing::TestParamInfo<ImageType>& info) { return extension_of(info.param); }

// The error inspect() gives, or a failure if it accepted the bytes.
core::Error rejection(std::string_view bytes) {
  auto result = inspect(bytes);
  if (result.ok()) {
    ADD_FAILURE() << "accepted " << bytes.size() << " bytes as " << mime_of(result->type) << " " << result->width << "x"
                  << result->height;
    return {};
  }
  EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(result.error().public_message.empty());
  return result.error();
}

std::uint32_t crc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string png_chunk(std::string_view type, std::string_view data) {
  const std::string body = std::string(type) + std::string(data);
  return be32(static_cast<std::uint32_t>(data.size())) + body + be32(crc32(body));
}

// Where the headers end and the compressed pixels begin.
std::size_t header_end(ImageType type, const std::string& bytes) {
  switch (type) {
    case ImageType::png: return 8 + 25;  // signature, IHDR chunk
    case ImageType::jpeg: {
      const auto sos = bytes.find("\xff\xda");
      const std::size_t length =
          (static_cast<unsigned char>(bytes[sos + 2]) << 8) | static_cast<unsigned char>(bytes[sos + 3]);
      return sos + 2 + length;
    }
    case ImageType::webp: return 12 + 8 + 10;  // RIFF header, VP8 chunk header, VP8 frame header
  }
  return 0;
}

std::size_t magic_length(ImageType type) {
  switch (type) {
    case ImageType::png: return 8;
    case ImageType::jpeg: return 3;
    case ImageType::webp: return 12;
  }
  return 0;
}

// --- inspect() ---------------------------------------------------------------------------------------

struct Made {
  ImageType type;
  int width;
  int height;
};

class MadeImages : public ::testing::TestWithParam<Made> {};

TEST_P(MadeImages, AreInspectedWithTheirTypeAndSize) {
  const auto [type, width, height] = GetParam();
  const std::string bytes = make_image(type, width, height, 0x12345678);
  auto info = inspect(bytes);
  ASSERT_TRUE(info.ok()) << info.error().internal_detail;
  EXPECT_EQ(info->type, type);
  EXPECT_EQ(info->width, width);
  EXPECT_EQ(info->height, height);
}

INSTANTIATE_TEST_SUITE_P(Sizes, MadeImages,
                         ::testing::Values(Made{ImageType::png, 1024, 768}, Made{ImageType::png, 16, 16},
                                           Made{ImageType::png, 1, 1}, Made{ImageType::jpeg, 1024, 768},
                                           Made{ImageType::jpeg, 16, 16}, Made{ImageType::jpeg, 1, 1},
                                           Made{ImageType::jpeg, 17, 9}, Made{ImageType::webp, 1024, 768},
                                           Made{ImageType::webp, 16, 16}, Made{ImageType::webp, 1, 1},
                                           Made{ImageType::png, kMaxImageSide, 1},
                                           Made{ImageType::jpeg, 1, kMaxImageSide}),
                         [](const auto& p) {
                           return std::string(extension_of(p.param.type)) + "_" + std::to_string(p.param.width) + "x" +
                                  std::to_string(p.param.height);
                         });

TEST(MakeImages, SeedsAndQualityChangeTheBytes) {
  EXPECT_NE(make_png(32, 32, 1), make_png(32, 32, 2));
  EXPECT_NE(make_jpeg(32, 32, 1), make_jpeg(32, 32, 2));
  EXPECT_NE(make_webp(32, 32, 1), make_webp(32, 32, 2));
  EXPECT_EQ(make_png(32, 32, 1), make_png(32, 32, 1));
  EXPECT_GT(make_jpeg(256, 256, 0, 95).size(), make_jpeg(256, 256, 0, 20).size());
  EXPECT_THROW(make_png(0, 10), std::invalid_argument);
  EXPECT_THROW(make_webp(20000, 10), std::invalid_argument);
  EXPECT_THROW(make_jpeg(10, 10, 0, 101), std::invalid_argument);
}

TEST(Mime, NamesAndExtensions) {
  EXPECT_STREQ(mime_of(ImageType::png), "image/png");
  EXPECT_STREQ(mime_of(ImageType::jpeg), "image/jpeg");
  EXPECT_STREQ(mime_of(ImageType::webp), "image/webp");
  EXPECT_STREQ(extension_of(ImageType::png), "png");
  EXPECT_STREQ(extension_of(ImageType::jpeg), "jpg");
  EXPECT_STREQ(extension_of(ImageType::webp), "webp");
  for (ImageType type : kAllTypes) EXPECT_EQ(image_type_from_mime(mime_of(type)), type);
  EXPECT_EQ(image_type_from_mime("image/gif"), std::nullopt);
}

class PerType : public ::testing::TestWithParam<ImageType> {};

TEST_P(PerType, TruncationAnywhereIsCaught) {
  const ImageType type = GetParam();
  const std::string bytes = make_image(type, 1024, 768, 7);
  ASSERT_TRUE(inspect(bytes).ok());
  const std::size_t cuts[] = {1,
                              magic_length(type) - 1,
                              magic_length(type),
                              header_end(type, bytes),
                              bytes.size() / 4,
                              bytes.size() / 2,
                              bytes.size() - 10,
                              bytes.size() - 2,
                              bytes.size() - 1};
  for (std::size_t cut : cuts) {
    SCOPED_TRACE("kept " + std::to_string(cut) + " of " + std::to_string(bytes.size()) + " bytes");
    EXPECT_THAT(rejection(bytes.substr(0, cut)).internal_detail, HasSubstr("truncated"));
  }
}

TEST_P(PerType, TheSideLimitIsCheckedBeforeDecoding) {
  const auto error = rejection(make_image(GetParam(), kMaxImageSide + 1, 1));
  EXPECT_EQ(error.internal_detail, "image too large: 8193x1 (limit 8192x8192)");
  EXPECT_EQ(error.public_message, "the image is too large");
}

TEST_P(PerType, TypeComesFromTheBytesNotFromTheName) {
  // Providers label JPEGs as PNG and the reverse; inspect() has no label to trust.
  auto info = inspect(make_image(GetParam(), 40, 30));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, GetParam());
}

INSTANTIATE_TEST_SUITE_P(AllTypes, PerType, ::testing::ValuesIn(kAllTypes), type_name);

TEST(Inspect, RejectsBodiesThatAreNotImages) {
  EXPECT_EQ(rejection("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>").internal_detail,
            "not an image (starts with '<!DOCTYPE html><')");
  EXPECT_EQ(rejection(R"({"error":"Model is currently loading","estimated_time":20.0})").internal_detail,
            R"(not an image (starts with '{"error":"Model '))");
  EXPECT_EQ(rejection("").internal_detail, "not an image (empty body)");
  EXPECT_EQ(rejection(std::string("\x00\x01\xfe", 3)).internal_detail, "not an image (starts with '\\x00\\x01\\xfe')");
  EXPECT_EQ(rejection("GIF89a\x01\x00\x01\x00").internal_detail, "unsupported image type GIF");
  EXPECT_THAT(rejection(std::string("\x00\x00\x00\x1c"
                                    "ftypavif\x00\x00\x00\x00",
                                    16))
                  .internal_detail,
              HasSubstr("'avif'"));
  EXPECT_THAT(rejection(std::string("RIFF\x24\x00\x00\x00WAVEfmt ", 16)).internal_detail, StartsWith("not an image"));

  std::mt19937 random(42);
  for (int i = 0; i < 20; ++i) {
    std::string noise(4096, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    rejection(noise);
  }
}

TEST(Inspect, RandomBytesAfterAValidSignatureAreCorrupt) {
  std::mt19937 random(7);
  for (ImageType type : kAllTypes) {
    std::string bytes = make_image(type, 64, 64);
    for (std::size_t i = header_end(type, bytes); i < bytes.size(); ++i) {
      bytes[i] = static_cast<char>(random());
    }
    SCOPED_TRACE(mime_of(type));
    rejection(bytes);
  }
}

TEST(Inspect, PngWithAFlippedByteInIdatIsCorrupt) {
  const std::string png = make_png(64, 64, 3);
  const auto idat = png.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  const std::size_t length =
      (static_cast<unsigned char>(png[idat - 4]) << 24) | (static_cast<unsigned char>(png[idat - 3]) << 16) |
      (static_cast<unsigned char>(png[idat - 2]) << 8) | static_cast<unsigned char>(png[idat - 1]);
  // libpng inflates while it reads, so a flipped data byte is caught by zlib (bad stream or Adler-32)
  // before the chunk's CRC is compared at its end.
  std::string data_flipped = png;
  data_flipped[idat + 4 + length / 2] ^= 0x10;
  EXPECT_THAT(rejection(data_flipped).internal_detail, StartsWith("corrupt PNG: IDAT: "));

  std::string crc_flipped = png;
  crc_flipped[idat + 4 + length] ^= 0x10;
  EXPECT_EQ(rejection(crc_flipped).internal_detail, "corrupt PNG: IDAT: CRC error");
}

TEST(Inspect, JpegWithAMarkerInsideTheScanIsCorrupt) {
  std::string bytes = make_jpeg(256, 256, 5);
  const std::size_t middle = (header_end(ImageType::jpeg, bytes) + bytes.size()) / 2;
  bytes.replace(middle, 2, "\xff\xd9");  // EOI in the middle of the entropy-coded data
  EXPECT_THAT(rejection(bytes).internal_detail, StartsWith("corrupt JPEG: "));
}

TEST(Inspect, HugeDeclaredSizesAreRefusedFromTheHeader) {
  // A valid IHDR claiming 100000x100000 RGB: 30 GB of pixels if anyone believed it.
  std::string ihdr = be32(100000) + be32(100000) + std::string("\x08\x02\x00\x00\x00", 5);
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IEND", "");
  EXPECT_EQ(rejection(png).internal_detail, "image too large: 100000x100000 (limit 8192x8192)");

  std::string jpeg = make_jpeg(16, 16);
  const auto sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpeg.replace(sof + 5, 4, "\xea\x60\xea\x60");  // height, width = 60000
  EXPECT_EQ(rejection(jpeg).internal_detail, "image too large: 60000x60000 (limit 8192x8192)");

  std::string webp = make_webp(16, 16);
  ASSERT_EQ(webp.substr(12, 4), "VP8 ");
  webp.replace(26, 4, "\x80\x3e\x80\x3e");  // 14-bit width, height = 16000, little-endian
  EXPECT_EQ(rejection(webp).internal_detail, "image too large: 16000x16000 (limit 8192x8192)");
}

// --- limits from what was asked for ------------------------------------------------------------------

// Valid bytes whose headers claim 8000x8000: a few hundred bytes that would take 256 MiB of RGBA (or,
// for a progressive JPEG, of coefficients) if the decoder believed them.
std::string claiming_8000x8000(ImageType type) {
  switch (type) {
    case ImageType::png: {
      const std::string ihdr = be32(8000) + be32(8000) + std::string("\x08\x06\x00\x00\x00", 5);
      return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IEND", "");
    }
    case ImageType::jpeg: {
      std::string jpeg = make_jpeg(16, 16);
      jpeg.replace(jpeg.find("\xff\xc0") + 5, 4, "\x1f\x40\x1f\x40");  // height, width = 8000
      return jpeg;
    }
    case ImageType::webp: {
      std::string webp = make_webp(16, 16);
      webp.replace(26, 4, "\x40\x1f\x40\x1f");  // 14-bit width, height = 8000, little-endian
      return webp;
    }
  }
  return {};
}

constexpr InspectLimits kUpTo1024{.max_width = 1024, .max_height = 1024, .max_pixels = 1024 * 1024};

TEST_P(PerType, AClaimOf8000x8000IsRefusedFromTheHeaderUnderASmallLimit) {
  const std::string bytes = claiming_8000x8000(GetParam());
  ASSERT_LT(bytes.size(), 1000u);
  for (auto result : {inspect(bytes, kUpTo1024), read_header(bytes, kUpTo1024)}) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().internal_detail, "image too large: 8000x8000 (limit 1024x1024)");
    EXPECT_EQ(result.error().public_message, "the image is too large");
  }
  // Under the absolute limit the same header passes the size check (and the missing pixels are found).
  EXPECT_THAT(rejection(bytes).internal_detail, Not(HasSubstr("too large")));
  auto header = read_header(bytes);
  ASSERT_TRUE(header.ok()) << header.error().internal_detail;
  EXPECT_EQ(header->width, 8000);
}

TEST_P(PerType, AValidImageOverTheLimitIsRefusedAndOneWithinItAccepted) {
  // Valid: the default limits decode it whole. Under 1024x1024 it is refused before any decoding, so
  // "too large" and not a decoding result.
  const std::string wide = make_image(GetParam(), 1040, 16, 3);
  ASSERT_TRUE(inspect(wide).ok());
  auto refused = inspect(wide, kUpTo1024);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().internal_detail, "image too large: 1040x16 (limit 1024x1024)");

  const std::string within = make_image(GetParam(), 1024, 768, 4);
  for (auto info : {inspect(within, kUpTo1024), read_header(within, kUpTo1024)}) {
    ASSERT_TRUE(info.ok()) << info.error().internal_detail;
    EXPECT_EQ(info->type, GetParam());
    EXPECT_EQ(info->width, 1024);
    EXPECT_EQ(info->height, 768);
  }
}

TEST_P(PerType, ThePixelCountIsLimitedApartFromTheSides) {
  const std::string bytes = make_image(GetParam(), 300, 200, 5);
  const InspectLimits exact{.max_width = 1024, .max_height = 1024, .max_pixels = 300 * 200};
  EXPECT_TRUE(inspect(bytes, exact).ok());
  InspectLimits one_less = exact;
  one_less.max_pixels -= 1;
  auto result = inspect(bytes, one_less);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().internal_detail, "image too large: 300x200 is 60000 pixels (limit 59999)");
}

TEST_P(PerType, LimitsAboveTheAbsoluteOnesCountAsThose) {
  const InspectLimits lavish{.max_width = 1 << 20, .max_height = 1 << 20, .max_pixels = std::int64_t{1} << 40};
  auto result = inspect(make_image(GetParam(), kMaxImageSide + 1, 1), lavish);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().internal_detail, "image too large: 8193x1 (limit 8192x8192)");
}

TEST_P(PerType, ReadHeaderDecodesNothing) {
  // The pixels are cut off: read_header still knows the size, inspect() finds the damage.
  const std::string bytes = make_image(GetParam(), 640, 480, 6);
  const std::string cut = bytes.substr(0, header_end(GetParam(), bytes) + 4);
  auto header = read_header(cut);
  ASSERT_TRUE(header.ok() || GetParam() == ImageType::webp) << header.error().internal_detail;
  if (GetParam() == ImageType::webp) {
    // The RIFF size is checked first, as in inspect().
    EXPECT_EQ(header.error().internal_detail, "truncated WebP");
  } else {
    EXPECT_EQ(header->width, 640);
    EXPECT_EQ(header->height, 480);
  }
  EXPECT_THAT(rejection(cut).internal_detail, HasSubstr("truncated"));
  EXPECT_THAT(read_header("<html>").error().internal_detail, StartsWith("not an image"));
}

// WebP is decoded into a scaled-down buffer; libwebp must still read every byte of the bitstream.
// A file cut short whose RIFF and chunk sizes are made to match passes the size pre-check, so only the
// decoder running out of data can catch it.
std::string cut_webp_keeping_sizes_consistent(const std::string& webp, std::size_t keep) {
  std::string cut = webp.substr(0, keep);
  auto put_le32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) cut[at + i] = static_cast<char>(v >> (8 * i));
  };
  put_le32(4, static_cast<std::uint32_t>(cut.size() - 8));
  // The last chunk (VP8 or VP8L, after any VP8X/ALPH) runs to the end of the file.
  std::size_t at = 12;
  while (true) {
    const std::uint32_t length = static_cast<unsigned char>(cut[at + 4]) |
                                 (static_cast<unsigned char>(cut[at + 5]) << 8) |
                                 (static_cast<unsigned char>(cut[at + 6]) << 16) |
                                 (static_cast<std::uint32_t>(static_cast<unsigned char>(cut[at + 7])) << 24);
    const std::size_t next = at + 8 + length + (length & 1);
    if (next >= cut.size()) break;
    at = next;
  }
  put_le32(at + 4, static_cast<std::uint32_t>(cut.size() - at - 8));
  return cut;
}

TEST(InspectWebP, EveryKindIsDecodedToTheEndThoughTheOutputIsScaled) {
  const std::pair<const char*, std::string> kinds[] = {
      {"lossy", make_webp(1536, 1024, 8)},
      {"lossy with alpha", make_webp_with_alpha(1536, 1024, 8, WebPKind::lossy)},
      {"lossless", make_webp_with_alpha(1536, 1024, 8, WebPKind::lossless)},
  };
  for (const auto& [name, webp] : kinds) {
    SCOPED_TRACE(name);
    auto info = inspect(webp);
    ASSERT_TRUE(info.ok()) << info.error().internal_detail;
    EXPECT_EQ(info->width, 1536);
    EXPECT_EQ(info->height, 1024);
    for (double kept : {0.95, 0.6}) {
      const std::string cut = cut_webp_keeping_sizes_consistent(webp, static_cast<std::size_t>(webp.size() * kept));
      EXPECT_THAT(rejection(cut).internal_detail, StartsWith("corrupt WebP: ")) << "kept " << kept;
    }
  }
}

TEST(Inspect, OversizedBodiesAreRefusedUnread) {
  std::string bytes = make_png(8, 8);
  bytes.resize(kMaxImageBytes + 1, '\0');
  EXPECT_THAT(rejection(bytes).internal_detail, HasSubstr("bytes (limit 67108864)"));
}

TEST(Inspect, IsSafeFromManyThreads) {
  std::vector<std::string> images;
  for (ImageType type : kAllTypes) {
    images.push_back(make_image(type, 200, 100));
    images.push_back(images.back().substr(0, images.back().size() / 2));
  }
  std::atomic<int> accepted = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        for (const auto& bytes : images) accepted += inspect(bytes).ok() ? 1 : 0;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted, 8 * 5 * 3);
}

// --- ImageStore --------------------------------------------------------------------------------------

class FileImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("igb-imaging-test-" + util::random_hex(8));
    store_ = std::make_unique<FileImageStore>(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Every file under the root, temp files included.
  std::vector<fs::path> files() const {
    std::vector<fs::path> out;
    if (!fs::exists(root_)) return out;
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
      if (!entry.is_directory()) out.push_back(entry.path());
    }
    return out;
  }

  const core::Timestamp now_ = core::from_unix_ms(1'700'000'000'000);
  fs::path root_;
  std::unique_ptr<FileImageStore> store_;
};

TEST_F(FileImageStoreTest, PutReturnsTheRecordAndWritesTheShardedFile) {
  const std::string bytes = make_png(64, 48, 9);
  auto image = store_->put(bytes, now_);
  ASSERT_TRUE(image.ok()) << image.error().internal_detail;
  EXPECT_EQ(image->id, util::sha256_hex(bytes));
  EXPECT_EQ(image->mime, "image/png");
  EXPECT_EQ(image->size_bytes, static_cast<std::int64_t>(bytes.size()));
  EXPECT_EQ(image->width, 64);
  EXPECT_EQ(image->height, 48);
  EXPECT_EQ(image->created_at, now_);
  EXPECT_FALSE(image->telegram_file_id.has_value());

  const fs::path expected = root_ / "images" / image->id.substr(0, 2) / (image->id + ".png");
  EXPECT_EQ(store_->path_of(*image), expected);
  EXPECT_TRUE(store_->exists(*image));
  EXPECT_EQ(files(), std::vector<fs::path>{expected});
  EXPECT_EQ(store_->read(*image), bytes);
}

// Users' images are private to the service's account even under a permissive umask.
TEST_F(FileImageStoreTest, FilesAndFoldersAreOwnerOnly) {
  const auto old_mask = ::umask(0022);
  auto image = store_->put(make_png(16, 16, 3), now_);
  ::umask(old_mask);
  ASSERT_TRUE(image.ok());
  const auto path = store_->path_of(*image);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(path.parent_path()).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(root_ / "images").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(FileImageStoreTest, ExtensionFollowsTheSniffedType) {
  auto jpeg = store_->put(make_jpeg(32, 32), now_);
  auto webp = store_->put(make_webp(32, 32), now_);
  ASSERT_TRUE(jpeg.ok() && webp.ok());
  EXPECT_EQ(jpeg->mime, "image/jpeg");
  EXPECT_EQ(store_->path_of(*jpeg).extension(), ".jpg");
  EXPECT_EQ(webp->mime, "image/webp");
  EXPECT_EQ(store_->path_of(*webp).extension(), ".webp");
  EXPECT_EQ(files().size(), 2u);
}

TEST_F(FileImageStoreTest, PuttingTheSameBytesAgainIsANoOp) {
  const std::string bytes = make_jpeg(40, 40, 1);
  auto first = store_->put(bytes, now_);
  ASSERT_TRUE(first.ok());
  const auto written_at = fs::last_write_time(store_->path_of(*first));
  auto second = store_->put(bytes, now_ + core::Millis(5000));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->created_at, now_ + core::Millis(5000));  // the record is the caller's to keep
  EXPECT_EQ(fs::last_write_time(store_->path_of(*second)), written_at);
  EXPECT_EQ(files().size(), 1u);
  EXPECT_EQ(store_->read(*second), bytes);
}

TEST_F(FileImageStoreTest, ADamagedFileUnderTheFinalNameIsReplaced) {
  const std::string bytes = make_png(20, 20);
  auto image = store_->put(bytes, now_);
  ASSERT_TRUE(image.ok());
  std::ofstream(store_->path_of(*image), std::ios::binary | std::ios::trunc) << "half";
  ASSERT_TRUE(store_->put(bytes, now_).ok());
  EXPECT_EQ(store_->read(*image), bytes);
}

TEST_F(FileImageStoreTest, InvalidBytesAreRefusedAndLeaveNothingBehind) {
  const std::string png = make_png(100, 100);
  for (const std::string& bad :
       {std::string("<!DOCTYPE html><p>rate limited</p>"), std::string(), png.substr(0, png.size() / 2)}) {
    auto result = store_->put(bad, now_);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
  }
  EXPECT_EQ(files(), std::vector<fs::path>{});
}

TEST_F(FileImageStoreTest, MissingOrForeignRecordsReadAsAbsent) {
  core::Image missing{.id = util::sha256_hex("never stored"), .mime = "image/png"};
  EXPECT_FALSE(store_->exists(missing));
  EXPECT_EQ(store_->read(missing), std::nullopt);

  // Ids come from the database; one that is not a digest must not become a path.
  core::Image escaping{.id = "../../../etc/passwd", .mime = "image/png"};
  EXPECT_FALSE(store_->exists(escaping));
  EXPECT_EQ(store_->read(escaping), std::nullopt);
  EXPECT_THROW((void)store_->path_of(escaping), std::invalid_argument);
  core::Image unknown_type{.id = missing.id, .mime = "text/html"};
  EXPECT_EQ(store_->read(unknown_type), std::nullopt);
  EXPECT_THROW((void)store_->path_of(unknown_type), std::invalid_argument);
}

TEST_F(FileImageStoreTest, ConcurrentPutsOfTheSameBytesAllSucceed) {
  const std::string bytes = make_webp(300, 200, 11);
  constexpr int kThreads = 8;
  std::atomic<int> ready = 0;
  std::vector<std::optional<core::Result<core::Image>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready < kThreads) std::this_thread::yield();
      results[t].emplace(store_->put(bytes, now_));
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value() && result->ok());
    EXPECT_EQ((*result)->id, util::sha256_hex(bytes));
  }
  EXPECT_EQ(files(), std::vector<fs::path>{store_->path_of(*results[0].value())});  // no temp files
  EXPECT_EQ(store_->read(*results[0].value()), bytes);
}

TEST_F(FileImageStoreTest, ConcurrentPutsOfDifferentImagesShareShardFolders) {
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> stored = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        stored += store_->put(make_png(8, 8, static_cast<std::uint32_t>(t * 100 + i)), now_).ok() ? 1 : 0;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stored, kThreads * 10);
  EXPECT_EQ(files().size(), static_cast<std::size_t>(kThreads * 10));
}

TEST_F(FileImageStoreTest, WorksThroughTheInterface) {
  std::unique_ptr<ImageStore> store = make_file_image_store(root_);
  const std::string bytes = make_png(10, 10);
  auto image = store->put(bytes, now_);
  ASSERT_TRUE(image.ok());
  EXPECT_TRUE(store->exists(*image));
  EXPECT_EQ(store->read(*image), bytes);
}

}  // namespace
}  // namespace igb::imaging
