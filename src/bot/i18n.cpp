#include "bot/i18n.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <toml++/toml.h>

namespace igb::bot {

extern const std::vector<std::pair<std::string_view, std::string_view>> kLocaleFiles;

namespace {

void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string, std::less<>>& out) {
  for (const auto& [key, node] : table) {
    std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const auto* sub = node.as_table()) {
      flatten(*sub, name, out);
    } else if (const auto* s = node.as_string()) {
      out[name] = s->get();
    } else {
      throw std::runtime_error("catalogue key " + name + " is not a string");
    }
  }
}

}  // namespace

std::string format(std::string_view pattern, const Args& args) {
  std::string out;
  out.reserve(pattern.size() + 32);
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      auto close = pattern.find('}', i + 1);
      if (close != std::string_view::npos) {
        auto name = pattern.substr(i + 1, close - i - 1);
        bool replaced = false;
        for (const auto& [k, v] : args) {
          if (k == name) {
            out += v;
            replaced = true;
            break;
          }
        }
        if (replaced) {
          i = close + 1;
          continue;
        }
      }
    }
    out += pattern[i++];
  }
  return out;
}

Catalogs Catalogs::embedded() { return from(kLocaleFiles); }

Catalogs Catalogs::from(const std::vector<std::pair<std::string_view, std::string_view>>& files) {
  Catalogs c;
  for (const auto& [file, text] : files) {
    auto lang = std::string(file.substr(0, file.find('.')));
    try {
      auto table = toml::parse(text, file);
      flatten(table, "", c.by_lang_[lang]);
    } catch (const toml::parse_error& e) {
      throw std::runtime_error("locale " + std::string(file) + ": " + std::string(e.description()));
    }
  }
  if (!c.by_lang_.contains("en")) throw std::runtime_error("locale en.toml is missing");
  return c;
}

std::string Catalogs::resolve(std::string_view tag) const {
  auto primary = std::string(tag.substr(0, tag.find_first_of("-_")));
  for (auto& ch : primary) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return by_lang_.contains(primary) ? primary : "en";
}

std::string Catalogs::text(std::string_view lang, std::string_view key, const Args& args) const {
  for (std::string_view l : {lang, std::string_view("en")}) {
    auto c = by_lang_.find(l);
    if (c == by_lang_.end()) continue;
    auto t = c->second.find(key);
    if (t != c->second.end()) return format(t->second, args);
  }
  spdlog::error("bot: no text for key {}", key);
  return std::string(key);
}

std::vector<std::string> Catalogs::languages() const {
  std::vector<std::string> out{"en"};
  for (const auto& [l, _] : by_lang_) {
    if (l != "en") out.push_back(l);
  }
  return out;
}

std::vector<std::string> Catalogs::missing_keys(std::string_view lang) const {
  std::vector<std::string> out;
  auto c = by_lang_.find(lang);
  for (const auto& [key, _] : by_lang_.at("en")) {
    if (c == by_lang_.end() || !c->second.contains(key)) out.push_back(key);
  }
  return out;
}

}  // namespace igb::bot
