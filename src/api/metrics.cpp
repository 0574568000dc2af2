#include "api/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace igb::api {

namespace {
const prometheus::Histogram::BucketBoundaries kHttpBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                           0.05,   0.1,   0.25,   0.5,   1,    2.5};
const prometheus::Histogram::BucketBoundaries kProviderBuckets{0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120};
}  // namespace

struct Metrics::Impl {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests = prometheus::BuildCounter()
                                                          .Name("imggenbot_http_requests_total")
                                                          .Help("HTTP requests by route, method and status")
                                                          .Register(registry);
  prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
                                                           .Name("imggenbot_http_request_duration_seconds")
                                                           .Help("HTTP request latency by route")
                                                           .Register(registry);
  prometheus::Family<prometheus::Counter>& provider_calls = prometheus::BuildCounter()
                                                                .Name("imggenbot_provider_calls_total")
                                                                .Help("Provider calls by backend and outcome")
                                                                .Register(registry);
  prometheus::Family<prometheus::Histogram>& provider_latency = prometheus::BuildHistogram()
                                                                    .Name("imggenbot_provider_call_duration_seconds")
                                                                    .Help("Provider call latency by backend")
                                                                    .Register(registry);
  prometheus::Family<prometheus::Gauge>& jobs = prometheus::BuildGauge()
                                                    .Name("imggenbot_jobs")
                                                    .Help("Jobs in the database by state (queued = queue depth)")
                                                    .Register(registry);
  prometheus::Counter& stream_reads = prometheus::BuildCounter()
                                          .Name("imggenbot_status_stream_reads_total")
                                          .Help("Database reads by status streams (/v1/status/{id}/events)")
                                          .Register(registry)
                                          .Add({});

  // The metrics of each route, method and status, looked up once: Family::Add builds a label map
  // and takes the family's lock on every call. Metrics live as long as their family.
  struct RequestMetrics {
    prometheus::Counter* count;
    prometheus::Histogram* latency;
  };
  std::shared_mutex request_metrics_mutex;
  std::unordered_map<std::string, RequestMetrics> request_metrics;

  RequestMetrics request_metrics_for(const server::RequestRecord& r) {
    thread_local std::string key;  // keeps its capacity: no allocation per request
    key.assign(r.route).append(1, ' ').append(r.method).append(1, ' ').append(std::to_string(r.status));
    {
      std::shared_lock lock(request_metrics_mutex);
      if (auto it = request_metrics.find(key); it != request_metrics.end()) return it->second;
    }
    RequestMetrics m{&requests.Add({{"route", r.route}, {"method", r.method}, {"status", std::to_string(r.status)}}),
                     &latency.Add({{"route", r.route}}, kHttpBuckets)};
    std::unique_lock lock(request_metrics_mutex);
    request_metrics.emplace(key, m);
    return m;
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::record_request(const server::RequestRecord& r) {
  auto m = impl_->request_metrics_for(r);
  m.count->Increment();
  m.latency->Observe(std::chrono::duration<double>(r.duration).count());
}

void Metrics::record_provider_call(const std::string& backend, const std::string& outcome,
                                   std::chrono::nanoseconds took) {
  impl_->provider_calls.Add({{"backend", backend}, {"outcome", outcome}}).Increment();
  impl_->provider_latency.Add({{"backend", backend}}, kProviderBuckets)
      .Observe(std::chrono::duration<double>(took).count());
}

void Metrics::set_jobs(const std::string& state, double count) { impl_->jobs.Add({{"state", state}}).Set(count); }

void Metrics::record_stream_read() { impl_->stream_reads.Increment(); }

std::string Metrics::render() { return prometheus::TextSerializer().Serialize(impl_->registry.Collect()); }

}  // namespace igb::api
