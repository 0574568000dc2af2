// An HTTP answer from fuzz input, for the harnesses that fuzz what a server sends back
// (provider_answer, chat_answer): a status (anything outside 100–599 is 200), header lines
// ("Name: value", others skipped) and a body.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include "http/client.hpp"

namespace igb::fuzz {

inline http::Response http_answer(std::string_view status, std::string_view headers, std::string_view body) {
  http::Response r;
  int code = 200;
  auto [p, ec] = std::from_chars(status.data(), status.data() + status.size(), code);
  (void)p;
  r.status = (ec == std::errc{} && code >= 100 && code <= 599) ? code : 200;
  while (!headers.empty()) {
    auto eol = headers.find('\n');
    auto line = headers.substr(0, eol);
    headers.remove_prefix(eol == std::string_view::npos ? headers.size() : eol + 1);
    auto colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
  }
  r.body = std::string(body);
  return r;
}

}  // namespace igb::fuzz
