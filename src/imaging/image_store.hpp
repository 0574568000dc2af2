#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/model.hpp"
#include "imaging/decode.hpp"

namespace igb::imaging {

// Validated images, addressed by the SHA-256 of their bytes. put() is the same for every backend
// (inspect, hash, then store); a backend (files now, S3-compatible later, memory in tests) implements
// the storage. Calls block: run them on the blocking pool. Safe to use from many threads.
class ImageStore {
 public:
  virtual ~ImageStore() = default;

  // Validates with inspect() under `limits` and stores the bytes (a no-op if they are stored already).
  // Returns the record: id = sha256 hex, mime, size, dimensions, created_at = now. Invalid images
  // (and larger ones) are ErrorCode::invalid_argument and store nothing; I/O failures throw.
  [[nodiscard]] core::Result<core::Image> put(std::string_view bytes, core::Timestamp now,
                                              const InspectLimits& limits = {});

  // nullopt if the image is not stored (or the record's id or mime is not one this store made).
  virtual std::optional<std::string> read(const core::Image& image) const = 0;
  virtual bool exists(const core::Image& image) const = 0;

 protected:
  // Stores `bytes`, already validated and hashed into `image`, unless they are there already.
  // Must be atomic (a reader sees all of the bytes or none) and safe against concurrent stores of
  // the same image.
  virtual void store(const core::Image& image, std::string_view bytes) = 0;
};

// Files under <root>/images/<first 2 hex>/<sha256>.<ext>. A write goes to a temp file in the same
// folder (".<sha256>.<random>.tmp"), is fsynced, then renamed, so a crash never leaves a half-written
// image under its final name; at worst a temp file stays behind.
class FileImageStore final : public ImageStore {
 public:
  explicit FileImageStore(std::filesystem::path root);

  std::optional<std::string> read(const core::Image& image) const override;
  bool exists(const core::Image& image) const override;
  // Throws std::invalid_argument unless image.id is 64 lower-case hex and image.mime is a type
  // inspect() accepts: ids come from the database and must not walk out of the folder.
  std::filesystem::path path_of(const core::Image& image) const;

 protected:
  void store(const core::Image& image, std::string_view bytes) override;

 private:
  std::filesystem::path images_dir_;  // <root>/images
};

std::unique_ptr<ImageStore> make_file_image_store(std::filesystem::path root);

}  // namespace igb::imaging
