#pragma once
// A fresh folder under the system temp directory, removed with everything in it when the test ends.
#include <filesystem>
#include <string>
#include <system_error>

#include "util/crypto.hpp"

namespace igb::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "igb-test-")
      : path_(std::filesystem::temp_directory_path() / (prefix + util::random_hex(6))) {
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace igb::testing
