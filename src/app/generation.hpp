#pragma once
// Builds the generation side from configuration: the HTTP client, the provider router (backends in
// order of preference) and the image store. Needs the executor the client will run on.
#include <boost/asio/any_io_executor.hpp>

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
};

GenerationStack build_generation(const Services& services, boost::asio::any_io_executor executor);

}  // namespace igb::app
