#include "api/views.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace igb::api {

namespace json = boost::json;

std::string iso8601(core::Timestamp t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

namespace {
json::value opt_time(const std::optional<core::Timestamp>& t) { return t ? json::value(iso8601(*t)) : json::value(nullptr); }
}  // namespace

json::object plan_json(const core::Plan& p) {
  return json::object{{"id", p.id},
                      {"title", p.title},
                      {"images_per_period", p.images_per_period},
                      {"period", p.period == core::PeriodKind::daily ? "day" : "30 days"},
                      {"max_pixels", p.max_pixels},
                      {"max_side", p.max_side},
                      {"max_concurrent_jobs", p.max_concurrent_jobs},
                      {"priority", p.priority},
                      {"images_per_request", p.images_per_request},
                      {"price_stars", p.price_stars}};
}

json::object quota_json(const core::QuotaStatus& q) {
  return json::object{{"used", q.used + q.reserved},
                      {"limit", q.limit},
                      {"remaining", q.remaining()},
                      {"resets_at", iso8601(q.resets_at)}};
}

std::string status_url(const ApiOptions& options, std::string_view job_id) {
  return options.public_base_url + "/v1/status/" + std::string(job_id);
}

json::object job_json(const core::JobService::JobView& v, const ApiOptions& options) {
  const auto& j = v.job;
  json::object params{{"prompt", j.params.prompt},
                      {"width", j.params.width},
                      {"height", j.params.height},
                      {"steps", j.params.steps},
                      {"seed", j.params.seed ? json::value(*j.params.seed) : json::value(nullptr)},
                      {"style", j.params.style.empty() ? json::value(nullptr) : json::value(j.params.style)}};
  json::value result = nullptr;
  if (j.status == core::JobStatus::succeeded && v.image) {
    result = json::object{{"image_url", options.public_base_url + "/v1/images/" + v.image->id},
                          {"width", v.image->width},
                          {"height", v.image->height},
                          {"mime", v.image->mime},
                          {"seed", j.params.seed ? json::value(*j.params.seed) : json::value(nullptr)}};
  }
  return json::object{
      {"job_id", j.id},
      {"status", core::to_string(j.status)},
      {"queue_position", j.status == core::JobStatus::queued ? json::value(v.queue_position) : json::value(nullptr)},
      {"progress", j.progress},
      {"attempts", j.attempts},
      {"created_at", iso8601(j.created_at)},
      {"started_at", opt_time(j.started_at)},
      {"finished_at", opt_time(j.finished_at)},
      {"error", j.public_error.empty() || j.status == core::JobStatus::succeeded ? json::value(nullptr)
                                                                                 : json::value(j.public_error)},
      {"params", std::move(params)},
      {"result", std::move(result)}};
}

}  // namespace igb::api
