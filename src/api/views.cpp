#include "api/views.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace igb::api {

namespace json = boost::json;

std::string iso8601(core::Timestamp t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

namespace {
json::value opt_time(const std::optional<core::Timestamp>& t) {
  return t ? json::value(iso8601(*t)) : json::value(nullptr);
}

// The API's English `error` for a failure code (clients that show their own text use `error_code`;
// the bot words the code from its catalogues). Never provider internals: a code carries none.
const char* failure_message(core::FailureCode code) {
  switch (code) {
    case core::FailureCode::unavailable:
      return "The image service is unavailable right now. Please try again later. Your quota was not used.";
    case core::FailureCode::content_refused:
      return "The image service refused this prompt. Please rephrase it. Your quota was not used.";
    case core::FailureCode::invalid_request:
      return "The image service could not make an image with these settings. Your quota was not used.";
    case core::FailureCode::interrupted: return "The generation did not finish. Your quota was not used.";
  }
  return "The generation failed. Your quota was not used.";
}
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
  const auto failure = core::reported_failure(j);
  return json::object{
      {"job_id", j.id},
      {"status", core::to_string(j.status)},
      {"queue_position", j.status == core::JobStatus::queued ? json::value(v.queue_position) : json::value(nullptr)},
      {"progress", j.progress},
      {"attempts", j.attempts},
      {"created_at", iso8601(j.created_at)},
      {"started_at", opt_time(j.started_at)},
      {"finished_at", opt_time(j.finished_at)},
      {"error", failure ? json::value(failure_message(*failure)) : json::value(nullptr)},
      {"error_code", failure ? json::value(core::to_string(*failure)) : json::value(nullptr)},
      {"params", std::move(params)},
      {"result", std::move(result)}};
}

json::object job_schema() {
  auto nullable = [](const char* type) { return json::array{json::value(type), json::value("null")}; };
  json::array statuses;
  for (auto st : {core::JobStatus::queued, core::JobStatus::running, core::JobStatus::succeeded,
                  core::JobStatus::failed, core::JobStatus::canceled}) {
    statuses.push_back(json::value(core::to_string(st)));
  }
  json::array codes;
  for (auto code : core::kFailureCodes) codes.push_back(json::value(core::to_string(code)));
  codes.push_back(nullptr);
  const json::object time{{"type", "string"}, {"format", "date-time"}};
  const json::object opt_time{{"type", nullable("string")}, {"format", "date-time"}};
  json::object params{{"type", "object"},
                      {"properties", json::object{{"prompt", json::object{{"type", "string"}}},
                                                  {"width", json::object{{"type", "integer"}}},
                                                  {"height", json::object{{"type", "integer"}}},
                                                  {"steps", json::object{{"type", "integer"}}},
                                                  {"seed", json::object{{"type", nullable("integer")}}},
                                                  {"style", json::object{{"type", nullable("string")}}}}}};
  json::object result{{"type", nullable("object")},
                      {"description", "Once succeeded"},
                      {"properties", json::object{{"image_url", json::object{{"type", "string"}}},
                                                  {"width", json::object{{"type", "integer"}}},
                                                  {"height", json::object{{"type", "integer"}}},
                                                  {"mime", json::object{{"type", "string"}}},
                                                  {"seed", json::object{{"type", nullable("integer")}}}}}};
  json::object properties{
      {"job_id", json::object{{"type", "string"}}},
      {"status", json::object{{"type", "string"}, {"enum", std::move(statuses)}}},
      {"queue_position",
       json::object{{"type", nullable("integer")}, {"description", "While queued; counted up to 1000"}}},
      {"progress", json::object{{"type", "integer"}, {"minimum", 0}, {"maximum", 100}}},
      {"attempts", json::object{{"type", "integer"}}},
      {"created_at", time},
      {"started_at", opt_time},
      {"finished_at", opt_time},
      {"error", json::object{{"type", nullable("string")},
                             {"description",
                              "Why the job failed, in English; on a job queued again, what its last "
                              "attempt met"}}},
      {"error_code", json::object{{"type", nullable("string")},
                                  {"enum", std::move(codes)},
                                  {"description",
                                   "`error` as a code: unavailable (try again later), content_refused "
                                   "(rephrase the prompt), invalid_request (change the settings), "
                                   "interrupted (the generation did not finish)"}}},
      {"params", std::move(params)},
      {"result", std::move(result)}};
  json::array required;
  for (const auto& [key, value] : properties) required.push_back(json::value(key));
  return json::object{{"type", "object"}, {"required", std::move(required)}, {"properties", std::move(properties)}};
}

}  // namespace igb::api
