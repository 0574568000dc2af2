#pragma once
// The generation workers of a process: the provider side (build_generation) and the worker's slots.
#include <memory>

#include "app/generation.hpp"
#include "app/roles.hpp"
#include "worker/worker.hpp"

namespace igb::app {

struct WorkersRole {
  GenerationStack generation;
  std::unique_ptr<worker::Worker> worker;
  int slots = 0;  // WORKER_CONCURRENCY

  // Spawns the slots (`worker-slot-<i>`) and the Hub mapping refresh (not critical).
  void start(runtime::Supervisor& supervisor);
};

// Needs WORKER_CONCURRENCY > 0. On PostgreSQL the workers hear of queued jobs by NOTIFY (serve
// listens), so their polling is only the fallback there.
std::unique_ptr<WorkersRole> wire_workers(const Services& services, const Runtime& rt);

}  // namespace igb::app
