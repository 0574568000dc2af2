#pragma once
// The JSON shapes the API answers with, built in one place so the routes and the OpenAPI schemas
// agree.
#include <boost/json/object.hpp>

#include "api/context.hpp"
#include "core/jobs.hpp"
#include "core/model.hpp"

namespace igb::api {

std::string iso8601(core::Timestamp t);
boost::json::object plan_json(const core::Plan& plan);
boost::json::object quota_json(const core::QuotaStatus& q);
boost::json::object job_json(const core::JobService::JobView& v, const ApiOptions& options);
// The JSON Schema of job_json's answer (components.schemas.Job in the OpenAPI document).
boost::json::object job_schema();
// What a route answering with job_json documents as its response_schema.
inline constexpr const char* kJobSchemaRef = R"({"$ref":"#/components/schemas/Job"})";
std::string status_url(const ApiOptions& options, std::string_view job_id);

}  // namespace igb::api
