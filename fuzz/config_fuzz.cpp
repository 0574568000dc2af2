// Settings from a TOML file and a .env file, through load_config, the one entry point the app
// uses. Input: the .env text, a "\n--8<--\n" line, then the TOML text; both are written to files in
// a private scratch folder (in /dev/shm when there is one), and the process environment is not consulted (an empty map is passed).
// Oracle besides the sanitizers: a secret setting's value from the .env file never appears in an
// error message, nor in describe() (the start-up log line).
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Files files;
  auto parts = igb::fuzz::split_fields(igb::fuzz::as_view(data, size), 2);
  write(files.env_path, parts[0]);
  write(files.toml_path, parts[1]);

  auto config = igb::config::load_config({}, {.toml_path = files.toml_path, .dotenv_path = files.env_path});
  auto dotenv = igb::config::parse_dotenv(parts[0], files.env_path);
  if (!dotenv) {
    IGB_FUZZ_CHECK(!config);  // load_config reads the same file with the same parser
    return 0;
  }
  // What may be printed: the error, or the start-up description of the settings.
  std::string printed;
  if (config) {
    for (const auto& [name, value] : igb::config::describe(*config)) printed += name + "=" + value + "\n";
  } else {
    printed = config.error().public_message + "\n" + config.error().internal_detail;
  }
  const auto all = igb::fuzz::as_view(data, size);
  for (const char* name : kSecretSettings) {
    auto it = dotenv->find(name);
    // Short values could appear by coincidence ("hf", "1"); real secrets are long.
    if (it == dotenv->end() || it->second.size() < 16) continue;
    // describe() shows DATABASE_URL without its credentials (a sqlite URL has none, and is shown).
    if (config && std::string_view(name) == "DATABASE_URL") continue;
    // A value that the input holds twice may be quoted from its other place (another setting's
    // value, an unknown TOML key): only a value that exists solely as a secret is checked.
    const auto first = all.find(it->second);
    if (first == std::string_view::npos || all.find(it->second, first + 1) != std::string_view::npos) continue;
    // Messages name the files; the fuzzer reads their paths from the messages and reuses them.
    if (files.toml_path.find(it->second) != std::string::npos || files.env_path.find(it->second) != std::string::npos) continue;
    IGB_FUZZ_CHECK(printed.find(it->second) == std::string::npos);
  }
  return 0;
}
