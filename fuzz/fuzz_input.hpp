#pragma once
// Helpers shared by the harnesses: the fuzzer's bytes as a string_view, and a splitter for inputs
// made of several fields (separated by a line "\n--8<--\n", so seed files stay readable by hand).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace igb::fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline constexpr std::string_view kSeparator = "\n--8<--\n";

// The first `n - 1` separators cut the input; the last part takes the rest (separators included).
// Missing parts are empty.
inline std::vector<std::string_view> split_fields(std::string_view in, std::size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    auto at = in.find(kSeparator);
    if (at == std::string_view::npos) break;
    out.push_back(in.substr(0, at));
    in.remove_prefix(at + kSeparator.size());
  }
  out.push_back(in);
  out.resize(n);
  return out;
}

// A fresh private folder for harnesses that must go through files: in /dev/shm when there is one,
// since rewriting a truncated file on ext4 forces its blocks to disk on close (auto_da_alloc), which
// cuts the executions per second by fifty.
inline std::filesystem::path scratch_dir(const char* name) {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                                             : std::filesystem::temp_directory_path();
  std::string tmpl = (base / (std::string("igb-fuzz-") + name + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return tmpl;
}

// A broken invariant: print it and abort, so libFuzzer records the input as a crash.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

#define IGB_FUZZ_CHECK(cond)               \
  do {                                     \
    if (!(cond)) ::igb::fuzz::fail(#cond); \
  } while (0)

}  // namespace igb::fuzz
