#include "gen/openai_backend.hpp"

#include <boost/json.hpp>

#include <array>
#include <cmath>
#include <stdexcept>

#include "gen/http_util.hpp"
#include "util/crypto.hpp"

// Where each dialect's wire format comes from (docs/providers.md has the longer story):
//   openai    openai/openai-python src/openai/types/image_generate_params.py (fields, the sizes of each
//             model, "response_format … isn't supported for gpt-image-1 which will always return
//             base64-encoded images", n=1 only for dall-e-3) and src/openai/resources/images.py.
//             Refusals: HTTP 400 {"error":{"type":"image_generation_user_error","code":"moderation_blocked"}}
//             (gpt-image-1) or code "content_policy_violation" (DALL·E).
//   together  togethercomputer/together-py src/together/types/image_generate_params.py (width, height,
//             steps, seed, n, response_format "base64" | "url") and together-python
//             src/together/types/images.py (answer: data[].b64_json | data[].url).
//   localai   mudler/LocalAI core/schema/openai.go (OpenAIRequest: size, step, response_format),
//             core/schema/prediction.go (seed), core/http/endpoints/openai/image.go (b64_json only when
//             response_format is "b64_json", else a URL; step defaults to 15; the prompt is split at
//             '|' into prompt|negative prompt).
//   sdcpp     leejet/stable-diffusion.cpp examples/server/routes_openai.cpp and examples/server/api.md:
//             only prompt, n, size, output_format, output_compression are read from the body; other
//             parameters go inside the prompt as <sd_cpp_extra_args>{"seed":…,"sample_params":
//             {"sample_steps":…}}</sd_cpp_extra_args>, which the server cuts out before generating.
//             Errors are {"error":"<message>"} (400) or {"error":"server_error","message":…} (500).

namespace igb::gen {

namespace json = boost::json;

namespace {

constexpr std::string_view kSdExtraOpen = "<sd_cpp_extra_args>";
constexpr std::string_view kSdExtraClose = "</sd_cpp_extra_args>";

// A user's prompt must not carry its own extra-args block (the server takes the first one it finds:
// a user could set any native parameter, e.g. a huge size). Removing the tags until none is left
// also defeats nested spellings like "<sd_cpp_<sd_cpp_extra_args>extra_args>".
std::string without_sd_extra_tags(std::string prompt) {
  for (bool changed = true; changed;) {
    changed = false;
    for (auto tag : {kSdExtraOpen, kSdExtraClose}) {
      for (auto at = prompt.find(tag); at != std::string::npos; at = prompt.find(tag)) {
        prompt.erase(at, tag.size());
        changed = true;
      }
    }
  }
  return prompt;
}

bool is_content_refusal(const std::string& code, const std::string& type) {
  return code == "moderation_blocked" || code == "content_policy_violation" || code == "content_filter" ||
         type.find("moderation") != std::string::npos || type.find("safety") != std::string::npos;
}

}  // namespace

std::optional<OpenAiDialect> parse_openai_dialect(std::string_view name) {
  if (name == "openai") return OpenAiDialect::openai;
  if (name == "together") return OpenAiDialect::together;
  if (name == "localai") return OpenAiDialect::localai;
  if (name == "sdcpp") return OpenAiDialect::sdcpp;
  return std::nullopt;
}

const char* to_string(OpenAiDialect dialect) {
  switch (dialect) {
    case OpenAiDialect::openai: return "openai";
    case OpenAiDialect::together: return "together";
    case OpenAiDialect::localai: return "localai";
    case OpenAiDialect::sdcpp: return "sdcpp";
  }
  return "openai";
}

std::pair<int, int> openai_size_for(std::string_view model, int width, int height) {
  using Size = std::pair<int, int>;
  static constexpr std::array<Size, 3> kDalle2{{{256, 256}, {512, 512}, {1024, 1024}}};
  static constexpr std::array<Size, 3> kDalle3{{{1024, 1024}, {1792, 1024}, {1024, 1792}}};
  static constexpr std::array<Size, 3> kGptImage{{{1024, 1024}, {1536, 1024}, {1024, 1536}}};
  const auto& sizes = model == "dall-e-2" ? kDalle2 : model == "dall-e-3" ? kDalle3 : kGptImage;
  const double want = std::log(static_cast<double>(std::max(width, 1)) / std::max(height, 1));
  const long long area = static_cast<long long>(width) * height;
  auto ratio_gap = [&](const Size& s) { return std::abs(std::log(static_cast<double>(s.first) / s.second) - want); };
  const Size* best = nullptr;
  for (const auto& s : sizes) {
    if (best == nullptr) {
      best = &s;
      continue;
    }
    const double gap = ratio_gap(s), best_gap = ratio_gap(*best);
    if (gap < best_gap - 1e-9) {
      best = &s;
    } else if (gap < best_gap + 1e-9) {
      // Same shape: the smallest one that covers the request, else the largest.
      const long long a = static_cast<long long>(s.first) * s.second;
      const long long b = static_cast<long long>(best->first) * best->second;
      const bool covers = a >= area, best_covers = b >= area;
      if ((covers && (!best_covers || a < b)) || (!covers && !best_covers && a > b)) best = &s;
    }
  }
  return *best;
}

OpenAiBackend::OpenAiBackend(http::Client& client, OpenAiOptions options)
    : client_(client), options_(std::move(options)) {
  auto dialect = parse_openai_dialect(options_.flavor);
  if (!dialect)
    throw std::invalid_argument("unknown OpenAI-compatible dialect (expected openai, together, localai or sdcpp)");
  dialect_ = *dialect;
}

std::string OpenAiBackend::request_body(const GenerationRequest& r) const {
  const std::string model = r.model.empty() ? options_.model : r.model;
  const std::string size = std::to_string(r.width) + "x" + std::to_string(r.height);
  json::object body{{"model", model}, {"prompt", r.prompt}, {"n", 1}};
  switch (dialect_) {
    case OpenAiDialect::openai: {
      // The model only makes the sizes of its set: the image comes back at the mapped size (the job
      // keeps the size that was asked for; the stored image records the size it really has). Steps
      // and the seed cannot be passed at all (applies_seed() is false).
      const auto [w, h] = openai_size_for(model, r.width, r.height);
      body["size"] = std::to_string(w) + "x" + std::to_string(h);
      // gpt-image-1 always answers in base64 and rejects response_format; DALL·E needs it to.
      if (model.starts_with("dall-e")) body["response_format"] = "b64_json";
      break;
    }
    case OpenAiDialect::together:
      body["width"] = r.width;
      body["height"] = r.height;
      body["steps"] = r.steps;
      body["seed"] = r.seed;
      body["response_format"] = "base64";
      break;
    case OpenAiDialect::localai:
      body["size"] = size;
      body["step"] = r.steps;
      body["seed"] = r.seed;
      body["response_format"] = "b64_json";
      break;
    case OpenAiDialect::sdcpp: {
      json::object extra{{"seed", r.seed}, {"sample_params", json::object{{"sample_steps", r.steps}}}};
      body["prompt"] = without_sd_extra_tags(r.prompt) + " " + std::string(kSdExtraOpen) + json::serialize(extra) +
                       std::string(kSdExtraClose);
      body["size"] = size;
      body["output_format"] = "png";
      break;
    }
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
    const auto& top = doc.as_object();
    if (auto* e = top.if_contains("error"); e != nullptr && e->is_object()) {
      message = str(e->as_object(), "message");
      type = str(e->as_object(), "type");
      code = str(e->as_object(), "code");
    } else if (e != nullptr && e->is_string()) {
      // stable-diffusion.cpp: {"error":"invalid params"} or {"error":"server_error","message":…}.
      message = std::string(e->as_string());
      if (auto more = str(top, "message"); !more.empty()) message += ": " + more;
    }
  } else {
    message = snippet(res.body);
  }
  f.detail = "HTTP " + std::to_string(res.status) + ": " + snippet(message) + (type.empty() ? "" : " [" + type + "]") +
             (code.empty() ? "" : " [" + code + "]");
  if (is_content_refusal(code, type)) {
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
  const std::string model = request.model.empty() ? options_.model : request.model;  // as request_body asks
  http::Request req{.method = "POST",
                    .url = options_.base_url + "/v1/images/generations",
                    .headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}},
                    .body = request_body(request),
                    .timeout = options_.timeout};
  if (!options_.api_key.empty()) req.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  const bool seed_applied = applies_seed();
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
      co_return GeneratedImage{.bytes = std::move(*bytes),
                               .content_type = "",
                               .seed_applied = seed_applied,
                               .provider = options_.name,
                               .model = model};
    }
    if (auto* url = first->if_contains("url"); url != nullptr && url->is_string()) {
      // A named request: GCC 12 mishandles non-trivial temporaries inside co_await expressions.
      http::Request fetch{.url = std::string(url->as_string()), .timeout = options_.timeout};
      http::Response image;
      try {
        image = co_await client_.send(std::move(fetch));
      } catch (const std::invalid_argument&) {
        co_return broken("data[0].url is not an http(s) URL");
      }
      if (image.status != 200) co_return broken("fetching data[0].url answered HTTP " + std::to_string(image.status));
      // Like an empty b64_json: not an image, and the router should fail over rather than count it.
      if (image.body.empty()) co_return broken("fetching data[0].url answered an empty body");
      co_return GeneratedImage{.bytes = std::move(image.body),
                               .content_type = image.header("Content-Type"),
                               .seed_applied = seed_applied,
                               .provider = options_.name,
                               .model = model};
    }
    co_return broken("data[0] has neither b64_json nor url");
  } catch (const http::TransportError& e) {
    if (e.kind() == http::TransportError::Kind::canceled) throw;
    co_return transport_failure(options_.name, e);
  }
}

}  // namespace igb::gen
