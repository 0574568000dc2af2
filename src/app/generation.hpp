#pragma once
// Builds the generation side from configuration: the HTTP client, the provider router (backends in
// order of preference) and the image store. Needs the executor the client will run on.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>

#include "app/wiring.hpp"
#include "gen/router.hpp"
#include "http/client.hpp"
#include "imaging/image_store.hpp"

namespace igb::app {

struct GenerationStack {
  std::unique_ptr<http::Client> http;
  std::unique_ptr<gen::Router> router;
  std::unique_ptr<imaging::ImageStore> images;
  // For a Supervisor task ("hf-providers"): reads the Hub mapping of every "hf" backend's model now
  // (logging the resolved providers at start-up), then refreshes them every few minutes. Without it
  // the mapping is still read on first use and refreshed lazily. Empty when there is no "hf" backend.
  std::function<boost::asio::awaitable<void>()> refresh_providers;
};

GenerationStack build_generation(const Services& services, const boost::asio::any_io_executor& executor);

}  // namespace igb::app
