#include "imaging/image_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "imaging/decode.hpp"
#include "util/crypto.hpp"

namespace igb::imaging {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void throw_errno(const char* what, const fs::path& path) {
  throw fs::filesystem_error(what, path, std::error_code(errno, std::generic_category()));
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Makes a rename or a new entry in `dir` survive a power cut.
void fsync_directory(const fs::path& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("open directory", dir);
  if (::fsync(fd.get()) != 0) throw_errno("fsync directory", dir);
}

void write_new_file_synced(const fs::path& path, std::string_view bytes) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) throw_errno("create", path);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd.get()) != 0) throw_errno("fsync", path);
  if (::close(fd.release()) != 0) throw_errno("close", path);
}

bool is_sha256_hex(std::string_view id) {
  return id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool is_storable(const core::Image& image) {
  return is_sha256_hex(image.id) && image_type_from_mime(image.mime).has_value();
}

}  // namespace

core::Result<core::Image> ImageStore::put(std::string_view bytes, core::Timestamp now, const InspectLimits& limits) {
  auto info = inspect(bytes, limits);
  if (!info) return std::move(info).error();
  core::Image image{.id = util::sha256_hex(bytes),
                    .mime = mime_of(info->type),
                    .size_bytes = static_cast<std::int64_t>(bytes.size()),
                    .width = info->width,
                    .height = info->height,
                    .created_at = now};
  store(image, bytes);
  return image;
}

FileImageStore::FileImageStore(fs::path root) : images_dir_(std::move(root /= "images")) {}

fs::path FileImageStore::path_of(const core::Image& image) const {
  if (!is_sha256_hex(image.id)) {
    throw std::invalid_argument("image id is not a sha256 hex digest: '" + image.id.substr(0, 80) + "'");
  }
  const auto type = image_type_from_mime(image.mime);
  if (!type) throw std::invalid_argument("not an image type we store: '" + image.mime + "'");
  return images_dir_ / image.id.substr(0, 2) / (image.id + "." + extension_of(*type));
}

bool FileImageStore::exists(const core::Image& image) const {
  if (!is_storable(image)) return false;
  std::error_code ec;
  return fs::is_regular_file(path_of(image), ec);
}

std::optional<std::string> FileImageStore::read(const core::Image& image) const {
  if (!is_storable(image)) return std::nullopt;
  const fs::path path = path_of(image);
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("stat", path);
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", path);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

void FileImageStore::store(const core::Image& image, std::string_view bytes) {
  const fs::path target = path_of(image);
  // Same name means same content, and files only appear whole under their name. A size mismatch
  // means something else wrote there: replace it.
  std::error_code ec;
  const auto existing_size = fs::file_size(target, ec);
  if (!ec && existing_size == bytes.size()) return;

  const fs::path dir = target.parent_path();
  if (fs::create_directories(dir)) {
    // Users' images are theirs: readable by this service's account only, whatever the umask.
    for (const auto& d : {images_dir_, dir}) fs::permissions(d, fs::perms::owner_all, fs::perm_options::replace, ec);
    fsync_directory(images_dir_);
    fsync_directory(images_dir_.parent_path());
  }
  // A unique temp name per writer: concurrent puts of one image each rename a complete copy.
  const fs::path temp = dir / ("." + image.id + "." + util::random_hex(8) + ".tmp");
  try {
    write_new_file_synced(temp, bytes);
    fs::rename(temp, target);
  } catch (...) {
    fs::remove(temp, ec);
    throw;
  }
  fsync_directory(dir);
}

std::unique_ptr<ImageStore> make_file_image_store(fs::path root) {
  return std::make_unique<FileImageStore>(std::move(root));
}

}  // namespace igb::imaging
