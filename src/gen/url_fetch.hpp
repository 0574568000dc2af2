#pragma once
// Fetches an image a provider answered with a URL (fal-ai, replicate), the way one fetches a URL an
// outsider chose: https only, never from a loopback, private, link-local, unique-local, multicast or
// otherwise non-public address (IPv4 and IPv6, IPv4-mapped included), connecting only to the address
// that was checked, with a size cap, a timeout and a bounded number of redirects. `data:` URLs
// (base64) are decoded here, under the same cap. The HF token is never sent along.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "gen/backend.hpp"
#include "http/client.hpp"

namespace igb::gen {

struct UrlFetchOptions {
  // Tests only (PROVIDER_URLS_ALLOW_PRIVATE): loopback/private addresses and http:// are allowed.
  bool allow_private = false;
  std::size_t max_bytes = std::size_t{32} * 1024 * 1024;
  std::chrono::milliseconds timeout{60'000};
  int max_redirects = 3;
};

// Whether an address is one a provider's image URL may point at: globally routable unicast.
bool is_public_address(const boost::asio::ip::address& address);

class UrlFetcher {
 public:
  // Builds its own HTTP client whose connections are checked with is_public_address (unless
  // allow_private).
  UrlFetcher(boost::asio::any_io_executor executor, UrlFetchOptions options);
  // Uses `client` as given (tests that need a special client); the URL checks still apply.
  UrlFetcher(std::unique_ptr<http::Client> client, UrlFetchOptions options);

  // A failure names `backend`; its detail never carries the URL's query (signed URLs carry keys).
  net::awaitable<GenerationOutcome> fetch(std::string url, std::string backend);

  const UrlFetchOptions& options() const { return options_; }

 private:
  std::unique_ptr<http::Client> client_;
  UrlFetchOptions options_;
};

// "https://host/path?query" → "https://host/path": for logs.
std::string url_for_log(std::string_view url);

}  // namespace igb::gen
