#include "app/wire_workers.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <string>

#include "storage/store.hpp"
#include "util/crypto.hpp"

namespace igb::app {
namespace {

using namespace std::chrono_literals;

std::string worker_id() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + util::random_hex(3);
}

}  // namespace

std::unique_ptr<WorkersRole> wire_workers(const Services& s, const Runtime& rt) {
  auto w = std::make_unique<WorkersRole>();
  w->generation = build_generation(s, rt.control);
  const bool listen = storage::parse_database_url(s.config.database_url).dialect == storage::Dialect::postgres;
  w->worker =
      std::make_unique<worker::Worker>(*s.jobs, rt.pool, *w->generation.router, *w->generation.images, s.clock,
                                       worker::WorkerOptions{.id = worker_id(), .idle_poll = listen ? 2s : 500ms});
  w->slots = s.config.worker_concurrency;
  return w;
}

void WorkersRole::start(runtime::Supervisor& supervisor) {
  for (int i = 0; i < slots; ++i) supervisor.spawn("worker-slot-" + std::to_string(i), worker->run_slot());
  // Reads each Hugging Face backend's provider mapping now (logging the providers it resolves),
  // then keeps it fresh in the background.
  if (generation.refresh_providers) supervisor.spawn("hf-providers", generation.refresh_providers(), false);
}

}  // namespace igb::app
