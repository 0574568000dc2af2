// Settings from a TOML file and a .env file, through load_config, the one entry point the app
// uses. Input: the .env text, a "\n--8<--\n" line, then the TOML text; both are written to files in
// a private scratch folder (in /dev/shm when there is one); the process environment is not read (an
// empty map is passed). Oracle besides the sanitizers: a secret setting's value from the .env file
// never appears in an error message, nor in describe() (the start-up log line).
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "config/dotenv.hpp"
#include "fuzz_input.hpp"

namespace {

struct Files {
  std::filesystem::path dir;
  std::string env_path;
  std::string toml_path;
  Files() {
    dir = igb::fuzz::scratch_dir("config");
    env_path = (dir / ".env").string();
    toml_path = (dir / "config.toml").string();
  }
  ~Files() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

void write(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) igb::fuzz::fail("writing a temporary file");
}

constexpr std::array kSecretSettings = {"DATABASE_URL", "TELEGRAM_BOT_TOKEN", "HF_TOKEN", "PAYMENT_PAYLOAD_SECRET"};

// What may be printed of a load: the error, or the start-up description of the settings.
std::string printed_by(const Files& files, std::string_view env_text, std::string_view toml_text) {
  write(files.env_path, env_text);
  write(files.toml_path, toml_text);
  auto config = igb::config::load_config({}, {.toml_path = files.toml_path, .dotenv_path = files.env_path});
  std::string out;
  if (config) {
    for (const auto& [name, value] : igb::config::describe(*config)) out += name + "=" + value + "\n";
  } else {
    out = config.error().public_message + "\n" + config.error().internal_detail;
  }
  return out;
}

// Letters and digits moved one place on (a→b, z→a, 9→0): a different value of the same shape.
std::string rotated(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>('a' + (c - 'a' + 1) % 26);
    else if (c >= 'A' && c <= 'Z')
      c = static_cast<char>('A' + (c - 'A' + 1) % 26);
    else if (c >= '0' && c <= '9')
      c = static_cast<char>('0' + (c - '0' + 1) % 10);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Files files;
  auto parts = igb::fuzz::split_fields(igb::fuzz::as_view(data, size), 2);
  const std::string printed = printed_by(files, parts[0], parts[1]);
  auto dotenv = igb::config::parse_dotenv(parts[0], files.env_path);
  if (!dotenv) return 0;
  const auto all = igb::fuzz::as_view(data, size);
  for (const char* name : kSecretSettings) {
    auto it = dotenv->find(name);
    // Short values could appear by coincidence ("hf", "1"); real secrets are long.
    if (it == dotenv->end() || it->second.size() < 16) continue;
    const std::string& value = it->second;
    if (printed.find(value) == std::string::npos) continue;
    // describe() shows DATABASE_URL without its credentials (a sqlite URL has none, and is shown).
    if (std::string_view(name) == "DATABASE_URL" && printed.find("\nDATA_DIR=") != std::string::npos) continue;
    // The value is in what was printed. It may be text the message holds anyway: the fuzzer learns
    // fragments of messages and file paths and puts them into values. Only a value written once,
    // verbatim, in the .env text can be swapped; swap it for another of the same shape and load
    // again: a message that quotes the value now shows the new one.
    const auto at = parts[0].find(value);
    if (at == std::string_view::npos || all.find(value, all.find(value) + 1) != std::string_view::npos) continue;
    const std::string other = rotated(value);
    if (other == value) continue;
    std::string env(parts[0]);
    env.replace(at, value.size(), other);
    const std::string printed_other = printed_by(files, env, parts[1]);
    IGB_FUZZ_CHECK(printed_other.find(other) == std::string::npos);
  }
  return 0;
}
