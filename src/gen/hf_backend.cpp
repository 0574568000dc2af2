#include "gen/hf_backend.hpp"

#include <boost/json.hpp>

#include <cmath>

#include "gen/http_util.hpp"
#include "util/strings.hpp"

namespace igb::gen {

namespace json = boost::json;

std::string HfBackend::request_body(const GenerationRequest& r) {
  json::object params{{"width", r.width},
                      {"height", r.height},
                      {"num_inference_steps", r.steps},
                      {"guidance_scale", 0},
                      {"seed", r.seed}};
  return json::serialize(json::object{{"inputs", r.prompt}, {"parameters", std::move(params)}});
}

GenerationOutcome HfBackend::interpret(const http::Response& res) const {
  const auto content_type = res.header("Content-Type");
  if (res.status == 200) {
    if (is_image_content_type(content_type) && !res.body.empty()) {
      return GeneratedImage{.bytes = res.body, .content_type = content_type};
    }
    return GenerationFailure{.kind = FailureKind::retry_later,
                             .detail = "200 without an image (Content-Type '" + content_type + "'): " + snippet(res.body),
                             .backend = options_.name};
  }
  GenerationFailure f{.kind = kind_for_status(res.status), .backend = options_.name};
  std::string message;
  std::optional<double> estimated_time;
  boost::system::error_code ec;
  auto doc = json::parse(res.body, ec);
  if (!ec && doc.is_object()) {
    const auto& obj = doc.as_object();
    if (auto* e = obj.if_contains("error")) {
      if (e->is_string()) message = std::string(e->as_string());
      else if (e->is_object() && e->as_object().contains("message") && e->as_object().at("message").is_string())
        message = std::string(e->as_object().at("message").as_string());
    }
    if (auto* t = obj.if_contains("estimated_time"); t != nullptr && t->is_number()) {
      estimated_time = t->to_number<double>();
    }
  } else {
    message = snippet(res.body);
  }
  f.detail = "HTTP " + std::to_string(res.status) + ": " + message;
  if (estimated_time && std::isfinite(*estimated_time) && *estimated_time >= 0) {
    f.retry_after = std::chrono::milliseconds(static_cast<long long>(std::min(*estimated_time, 3600.0) * 1000));
  } else if (auto ra = parse_retry_after(res.header("Retry-After"))) {
    f.retry_after = ra;
  }
  const auto lower = util::to_lower(message);
  if (f.kind == FailureKind::invalid_request &&
      (lower.find("nsfw") != std::string::npos || lower.find("safety") != std::string::npos ||
       lower.find("inappropriate") != std::string::npos)) {
    f.kind = FailureKind::content_refused;
  }
  if (res.status == 410) f.detail += " (the api-inference host is retired: set HF_API_BASE=https://router.huggingface.co)";
  return f;
}

net::awaitable<GenerationOutcome> HfBackend::generate(GenerationRequest request, ProgressFn) {
  const auto& model = request.model.empty() ? options_.model : request.model;
  http::Request req{.method = "POST",
                    .url = options_.base_url + "/hf-inference/models/" + model,
                    .headers = {{"Accept", "image/png"}, {"Content-Type", "application/json"}},
                    .body = request_body(request),
                    .timeout = options_.timeout};
  if (!options_.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + options_.token);
  try {
    auto res = co_await client_.send(std::move(req));
    co_return interpret(res);
  } catch (const http::TransportError& e) {
    if (e.kind() == http::TransportError::Kind::canceled) throw;
    co_return transport_failure(options_.name, e);
  }
}

}  // namespace igb::gen
