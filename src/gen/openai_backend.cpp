#include "gen/openai_backend.hpp"

#include <boost/json.hpp>

#include "gen/http_util.hpp"
#include "util/crypto.hpp"

namespace igb::gen {

namespace json = boost::json;

std::string OpenAiBackend::request_body(const GenerationRequest& r) const {
  json::object body{{"model", r.model.empty() ? options_.model : r.model},
                    {"prompt", r.prompt},
                    {"n", 1},
                    {"size", std::to_string(r.width) + "x" + std::to_string(r.height)}};
  if (options_.flavor == "together") {
    body["steps"] = r.steps;
    body["seed"] = r.seed;
    body["width"] = r.width;
    body["height"] = r.height;
    body["response_format"] = "base64";
  } else {
    body["response_format"] = "b64_json";
  }
  return json::serialize(body);
}

GenerationFailure OpenAiBackend::error_of(const http::Response& res) const {
  GenerationFailure f{.kind = kind_for_status(res.status), .backend = options_.name};
  std::string message, type, code;
  boost::system::error_code ec;
  auto doc = json::parse(res.body, ec);
  auto str = [](const json::object& o, const char* k) {
    auto* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (!ec && doc.is_object()) {
    if (auto* e = doc.as_object().if_contains("error"); e != nullptr && e->is_object()) {
      message = str(e->as_object(), "message");
      type = str(e->as_object(), "type");
      code = str(e->as_object(), "code");
    } else if (e != nullptr && e->is_string()) {
      message = std::string(e->as_string());
    }
  } else {
    message = snippet(res.body);
  }
  f.detail = "HTTP " + std::to_string(res.status) + ": " + message + (type.empty() ? "" : " [" + type + "]") +
             (code.empty() ? "" : " [" + code + "]");
  if (code == "content_policy_violation" || type.find("moderation") != std::string::npos ||
      type.find("safety") != std::string::npos) {
    f.kind = FailureKind::content_refused;
  } else if (type == "insufficient_quota" || code == "insufficient_quota" || code == "billing_hard_limit_reached") {
    f.kind = FailureKind::billing;
  } else if (code == "model_not_found") {
    f.kind = FailureKind::model_unavailable;
  }
  if (auto ra = parse_retry_after(res.header("Retry-After"))) f.retry_after = ra;
  return f;
}

net::awaitable<GenerationOutcome> OpenAiBackend::generate(GenerationRequest request, ProgressFn) {
  http::Request req{.method = "POST",
                    .url = options_.base_url + "/v1/images/generations",
                    .headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}},
                    .body = request_body(request),
                    .timeout = options_.timeout};
  if (!options_.api_key.empty()) req.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  auto broken = [&](std::string why) {
    return GenerationFailure{.kind = FailureKind::retry_later, .detail = std::move(why), .backend = options_.name};
  };
  try {
    auto res = co_await client_.send(std::move(req));
    if (res.status != 200) co_return error_of(res);
    boost::system::error_code ec;
    auto doc = json::parse(res.body, ec);
    const json::object* first = nullptr;
    if (!ec && doc.is_object()) {
      if (auto* data = doc.as_object().if_contains("data");
          data != nullptr && data->is_array() && !data->as_array().empty() && data->as_array()[0].is_object()) {
        first = &data->as_array()[0].as_object();
      }
    }
    if (first == nullptr) co_return broken("200 without data[0]: " + snippet(res.body));
    if (auto* b64 = first->if_contains("b64_json"); b64 != nullptr && b64->is_string()) {
      auto bytes = util::base64_decode(std::string_view(b64->as_string()));
      if (!bytes || bytes->empty()) co_return broken("data[0].b64_json is not valid base64");
      co_return GeneratedImage{.bytes = std::move(*bytes), .content_type = ""};
    }
    if (auto* url = first->if_contains("url"); url != nullptr && url->is_string()) {
      // A named request: GCC 12 mishandles non-trivial temporaries inside co_await expressions.
      http::Request fetch{.url = std::string(url->as_string()), .timeout = options_.timeout};
      auto image = co_await client_.send(std::move(fetch));
      if (image.status != 200) co_return broken("fetching data[0].url answered HTTP " + std::to_string(image.status));
      co_return GeneratedImage{.bytes = std::move(image.body), .content_type = image.header("Content-Type")};
    }
    co_return broken("data[0] has neither b64_json nor url");
  } catch (const http::TransportError& e) {
    if (e.kind() == http::TransportError::Kind::canceled) throw;
    co_return transport_failure(options_.name, e);
  }
}

}  // namespace igb::gen
