#pragma once
// `imggenbot healthcheck`: the container's HEALTHCHECK, so the runtime image needs no curl.
#include <chrono>
#include <iosfwd>
#include <string>

#include "config/config.hpp"

namespace igb::cli {

// http://HOST:PORT/healthz for HTTP_LISTEN; a wildcard address (0.0.0.0, ::) becomes loopback.
std::string default_healthcheck_url(const config::Listen& listen);

// GETs a plain-http URL; 0 if the answer is 2xx within `timeout`, else 1 with a line on `err`.
int run_healthcheck(const std::string& url, std::chrono::milliseconds timeout, std::ostream& err);

}  // namespace igb::cli
