#pragma once
// Prometheus metrics of one process (prometheus-cpp): HTTP requests by route and status with latency
// histograms, provider calls by backend and outcome with latency, and gauges filled at scrape time
// (queue depth, jobs by state).
#include <chrono>
#include <memory>
#include <string>

#include "server/server.hpp"

namespace prometheus {
class Registry;
}

namespace igb::api {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  void record_request(const server::RequestRecord& record);
  // outcome: "ok" or a failure kind ("retry_later", "billing", …)
  void record_provider_call(const std::string& backend, const std::string& outcome, std::chrono::nanoseconds took);
  void set_jobs(const std::string& state, double count);
  void record_stream_read();  // a status stream read its job from the database
  // The text exposition format.
  std::string render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace igb::api
