#include "gen/hf_providers.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "gen/http_util.hpp"
#include "gen/model_defaults.hpp"
#include "gen/url_fetch.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

// Sources, read from the official clients (both send the same thing; where they differ we say which
// one we follow):
//   [py] huggingface/huggingface_hub  src/huggingface_hub/inference/_providers/{name}.py and _common.py
//        (TaskProviderHelper: URL = {router}/{provider}/{route}, headers = build_hf_headers(token),
//        JSON body; InferenceClient.text_to_image passes parameters width, height,
//        num_inference_steps, guidance_scale, seed and drops the unset ones)
//   [js] huggingface/huggingface.js   packages/inference/src/providers/{name}.ts

namespace igb::gen {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxJsonAnswer = std::size_t{1024} * 1024;           // answers that carry a URL
constexpr std::size_t kMaxBase64Answer = std::size_t{48} * 1024 * 1024;    // answers that carry the image inline
constexpr std::size_t kMaxImageAnswer = std::size_t{32} * 1024 * 1024;     // raw image bytes

GenerationFailure failure(const ProviderCall& call, const ProviderMapping& m, FailureKind kind, std::string detail) {
  return GenerationFailure{.kind = kind, .detail = m.provider + ": " + std::move(detail), .backend = call.backend};
}

GenerationFailure prefixed(GenerationFailure f, const ProviderMapping& m) {
  f.detail = m.provider + ": " + f.detail;
  return f;
}

// Provider ids and prediction ids go into URL paths: only the characters they are made of.
bool path_safe(std::string_view s) {
  return !s.empty() && s.size() <= 300 && s.find("..") == std::string_view::npos &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == '/' ||
                  c == ':';
         });
}

std::string sniff_image_type(std::string_view b) {
  if (b.starts_with("\x89PNG")) return "image/png";
  if (b.starts_with("\xff\xd8")) return "image/jpeg";
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") return "image/webp";
  return "application/octet-stream";
}

using Sent = std::variant<http::Response, GenerationFailure>;

net::awaitable<Sent> send(ProviderCall call, ProviderMapping m, http::Request req) {
  if (!call.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + call.token);
  req.timeout = call.timeout;
  try {
    co_return co_await call.client->send(std::move(req));
  } catch (const http::TransportError& e) {
    if (e.kind() == http::TransportError::Kind::canceled) throw;
    co_return prefixed(transport_failure(call.backend, e), m);
  }
}

http::Request post_json(std::string url, const json::object& body, std::size_t max_bytes) {
  return http::Request{.method = "POST",
                       .url = std::move(url),
                       .headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}},
                       .body = json::serialize(body),
                       .max_response_bytes = max_bytes};
}

http::Request get_json(std::string url, std::size_t max_bytes) {
  return http::Request{.method = "GET",
                       .url = std::move(url),
                       .headers = {{"Accept", "application/json"}},
                       .max_response_bytes = max_bytes};
}

// A 2xx answer that should be a JSON object; anything else is a failure.
std::variant<json::object, GenerationFailure> json_answer(const ProviderCall& call, const ProviderMapping& m,
                                                          const http::Response& res) {
  if (res.status < 200 || res.status >= 300) return prefixed(read_provider_error(res, call.backend), m);
  boost::system::error_code ec;
  auto doc = json::parse(res.body, ec);
  if (ec || !doc.is_object()) {
    return failure(call, m, FailureKind::retry_later,
                   "HTTP " + std::to_string(res.status) + " without a JSON object: " + snippet(res.body));
  }
  return std::move(doc.as_object());
}

// {"data": [{"b64_json": "…"}]}: the OpenAI images shape nscale, together and nebius answer with.
GenerationOutcome b64_image(const ProviderCall& call, const ProviderMapping& m, const http::Response& res) {
  auto answer = json_answer(call, m, res);
  if (auto* f = std::get_if<GenerationFailure>(&answer)) return *f;
  const auto& o = std::get<json::object>(answer);
  const json::value* b64 = nullptr;
  if (const auto* data = o.if_contains("data");
      data && data->is_array() && !data->as_array().empty() && data->as_array()[0].is_object()) {
    b64 = data->as_array()[0].as_object().if_contains("b64_json");
  }
  if (b64 == nullptr || !b64->is_string()) {
    return failure(call, m, FailureKind::retry_later, "answer without data[0].b64_json: " + snippet(res.body));
  }
  auto bytes = util::base64_decode(b64->as_string());
  if (!bytes || bytes->empty()) return failure(call, m, FailureKind::retry_later, "data[0].b64_json is not base64");
  auto type = sniff_image_type(*bytes);
  return GeneratedImage{.bytes = std::move(*bytes), .content_type = std::move(type)};
}

net::awaitable<GenerationOutcome> fetch_image(ProviderCall call, ProviderMapping m, std::string url) {
  if (call.urls == nullptr) {
    co_return failure(call, m, FailureKind::permanent, "answered with an image URL, and no URL fetcher is set up");
  }
  auto outcome = co_await call.urls->fetch(std::move(url), call.backend);
  if (auto* f = std::get_if<GenerationFailure>(&outcome)) *f = prefixed(std::move(*f), m);
  co_return outcome;
}

// Only a guidance that does something: FLUX.1-schnell's 0 is left out (the providers' schnell
// endpoints have no such input), as the official clients leave out what the caller did not set.
void add_guidance(json::object& o, std::string_view key, const ModelDefaults& d) {
  if (d.guidance && *d.guidance > 0) o[key] = *d.guidance;
}

// --- hf-inference ---------------------------------------------------------------------------------
// [py] hf_inference.py HFInferenceTask: POST {router}/hf-inference/models/{id}, body
//      {"inputs": prompt, "parameters": {…}}; the answer is the image bytes.
// [js] hf-inference.ts HFInferenceTextToImageTask (same route and body).
net::awaitable<GenerationOutcome> hf_inference(ProviderCall call, ProviderMapping m, GenerationRequest r,
                                               ModelDefaults d) {
  json::object params{{"width", r.width}, {"height", r.height}, {"num_inference_steps", r.steps}};
  if (d.guidance) params["guidance_scale"] = *d.guidance;  // 0 too: the diffusers pipeline takes it
  params["seed"] = r.seed;
  auto req = post_json(call.router_base + "/hf-inference/models/" + m.provider_id,
                       json::object{{"inputs", r.prompt}, {"parameters", std::move(params)}}, kMaxImageAnswer);
  req.headers = {{"Accept", "image/png"}, {"Content-Type", "application/json"}};
  auto sent = co_await send(call, m, std::move(req));
  if (auto* f = std::get_if<GenerationFailure>(&sent)) co_return *f;
  auto& res = std::get<http::Response>(sent);
  if (res.status != 200) co_return prefixed(read_provider_error(res, call.backend), m);
  auto content_type = res.header("Content-Type");
  if (!is_image_content_type(content_type) || res.body.empty()) {
    co_return failure(call, m, FailureKind::retry_later,
                      "200 without an image (Content-Type '" + content_type + "'): " + snippet(res.body));
  }
  co_return GeneratedImage{.bytes = std::move(res.body), .content_type = content_type};
}

// --- fal-ai ---------------------------------------------------------------------------------------
// [py] fal_ai.py FalAITextToImageTask: POST {router}/fal-ai/{id}, body {"prompt", …parameters} with
//      width/height moved into "image_size": {"width", "height"}; the answer is
//      {"images": [{"url", "content_type", …}], …}, and the client GETs images[0].url (no token).
// [js] fal-ai.ts FalAITextToImageTask sends the parameters flat plus "sync_mode": true, which makes
//      fal answer with a data: URL; we follow the Python body (image_size is what fal's schema
//      names) and accept a data: URL as well.
net::awaitable<GenerationOutcome> fal_ai(ProviderCall call, ProviderMapping m, GenerationRequest r, ModelDefaults d) {
  json::object body{{"prompt", r.prompt},
                    {"image_size", json::object{{"width", r.width}, {"height", r.height}}},
                    {"num_inference_steps", r.steps},
                    {"seed", r.seed}};
  add_guidance(body, "guidance_scale", d);
  auto sent = co_await send(call, m, post_json(call.router_base + "/fal-ai/" + m.provider_id, body, kMaxBase64Answer));
  if (auto* f = std::get_if<GenerationFailure>(&sent)) co_return *f;
  const auto& res = std::get<http::Response>(sent);
  auto answer = json_answer(call, m, res);
  if (auto* f = std::get_if<GenerationFailure>(&answer)) co_return *f;
  const auto& o = std::get<json::object>(answer);
  // fal blacks out an image its safety checker flags and says so here.
  if (const auto* nsfw = o.if_contains("has_nsfw_concepts"); nsfw && nsfw->is_array() && !nsfw->as_array().empty() &&
                                                             nsfw->as_array()[0].is_bool() &&
                                                             nsfw->as_array()[0].as_bool()) {
    co_return failure(call, m, FailureKind::content_refused, "fal's safety checker flagged the image");
  }
  const json::value* url = nullptr;
  if (const auto* images = o.if_contains("images");
      images && images->is_array() && !images->as_array().empty() && images->as_array()[0].is_object()) {
    url = images->as_array()[0].as_object().if_contains("url");
  }
  if (url == nullptr || !url->is_string()) {
    co_return failure(call, m, FailureKind::retry_later, "answer without images[0].url: " + snippet(res.body));
  }
  co_return co_await fetch_image(call, m, std::string(url->as_string()));
}

// --- nscale ---------------------------------------------------------------------------------------
// [py] nscale.py NscaleTextToImageTask: POST {router}/nscale/v1/images/generations, body
//      {"response_format": "b64_json", "prompt", "model": id, "size": "WxH", …} without
//      num_inference_steps (and cfg_scale); answer {"data": [{"b64_json"}]}.
// [js] nscale.ts NscaleTextToImageTask (same route, response_format and answer).
net::awaitable<GenerationOutcome> nscale(ProviderCall call, ProviderMapping m, GenerationRequest r, ModelDefaults d) {
  json::object body{{"response_format", "b64_json"},
                    {"prompt", r.prompt},
                    {"model", m.provider_id},
                    {"size", std::to_string(r.width) + "x" + std::to_string(r.height)},
                    {"seed", r.seed}};
  add_guidance(body, "guidance_scale", d);
  auto sent =
      co_await send(call, m, post_json(call.router_base + "/nscale/v1/images/generations", body, kMaxBase64Answer));
  if (auto* f = std::get_if<GenerationFailure>(&sent)) co_return *f;
  co_return b64_image(call, m, std::get<http::Response>(sent));
}

// --- together -------------------------------------------------------------------------------------
// [py] together.py TogetherTextToImageTask: POST {router}/together/v1/images/generations, body
//      {"prompt", "response_format": "base64", …, "model": id} with num_inference_steps renamed
//      "steps"; answer {"data": [{"b64_json"}]}.
// [js] together.ts TogetherTextToImageTask (same route, response_format and answer).
net::awaitable<GenerationOutcome> together(ProviderCall call, ProviderMapping m, GenerationRequest r, ModelDefaults d) {
  json::object body{
      {"prompt", r.prompt}, {"response_format", "base64"}, {"width", r.width}, {"height", r.height}, {"steps", r.steps},
      {"seed", r.seed},     {"model", m.provider_id}};
  add_guidance(body, "guidance_scale", d);
  auto sent =
      co_await send(call, m, post_json(call.router_base + "/together/v1/images/generations", body, kMaxBase64Answer));
  if (auto* f = std::get_if<GenerationFailure>(&sent)) co_return *f;
  co_return b64_image(call, m, std::get<http::Response>(sent));
}

// --- nebius ---------------------------------------------------------------------------------------
// [py] nebius.py NebiusTextToImageTask: POST {router}/nebius/v1/images/generations, body
//      {"prompt", …parameters without guidance_scale, "response_format": "b64_json", "model": id};
//      answer {"data": [{"b64_json"}]}.
// [js] nebius.ts NebiusTextToImageTask (same route, response_format and answer).
net::awaitable<GenerationOutcome> nebius(ProviderCall call, ProviderMapping m, GenerationRequest r, ModelDefaults) {
  json::object body{{"prompt", r.prompt},    {"width", r.width},
                    {"height", r.height},    {"num_inference_steps", r.steps},
                    {"seed", r.seed},        {"response_format", "b64_json"},
                    {"model", m.provider_id}};
  auto sent =
      co_await send(call, m, post_json(call.router_base + "/nebius/v1/images/generations", body, kMaxBase64Answer));
  if (auto* f = std::get_if<GenerationFailure>(&sent)) co_return *f;
  co_return b64_image(call, m, std::get<http::Response>(sent));
}

// --- replicate ------------------------------------------------------------------------------------
// [py] replicate.py ReplicateTask: header "Prefer: wait"; POST {router}/replicate/v1/models/{id}/predictions,
//      or {router}/replicate/v1/predictions with "version" when the id is "owner/name:version"; body
//      {"input": {"prompt", …parameters}}; the answer is a prediction whose "output" is a URL or a list
//      of URLs, fetched without the token. When `Prefer: wait` returns before the prediction is done
//      (output null) the official clients give up; we poll the prediction,
//      GET {router}/replicate/v1/predictions/{id}, a bounded number of times.
// [js] replicate.ts (same routes, header and body).
net::awaitable<GenerationOutcome> replicate(ProviderCall call, ProviderMapping m, GenerationRequest r,
                                            ModelDefaults d) {
  json::object input{{"prompt", r.prompt},
                     {"width", r.width},
                     {"height", r.height},
                     {"num_inference_steps", r.steps},
                     {"seed", r.seed}};
  add_guidance(input, "guidance_scale", d);
  json::object body{{"input", std::move(input)}};
  std::string url = call.router_base + "/replicate";
  if (auto colon = m.provider_id.find(':'); colon != std::string::npos) {
    url += "/v1/predictions";
    body["version"] = m.provider_id.substr(colon + 1);
  } else {
    url += "/v1/models/" + m.provider_id + "/predictions";
  }
  auto req = post_json(std::move(url), body, kMaxJsonAnswer);
  req.headers.emplace_back("Prefer", "wait");
  auto sent = co_await send(call, m, std::move(req));

  for (int polls = 0;; ++polls) {
    if (auto* f = std::get_if<GenerationFailure>(&sent)) co_return *f;
    const auto& res = std::get<http::Response>(sent);
    auto answer = json_answer(call, m, res);
    if (auto* f = std::get_if<GenerationFailure>(&answer)) co_return *f;
    const auto& o = std::get<json::object>(answer);
    const auto* output = o.if_contains("output");
    if (output != nullptr && output->is_array() && !output->as_array().empty()) output = &output->as_array()[0];
    if (output != nullptr && output->is_string())
      co_return co_await fetch_image(call, m, std::string(output->as_string()));

    std::string status;
    if (const auto* st = o.if_contains("status"); st && st->is_string()) status = st->as_string();
    if (status == "failed" || status == "canceled" || status == "aborted" || status == "succeeded") {
      std::string error;
      if (const auto* er = o.if_contains("error"); er && er->is_string()) error = er->as_string();
      auto lower = util::to_lower(error);
      auto kind = lower.find("nsfw") != std::string::npos || lower.find("safety") != std::string::npos
                      ? FailureKind::content_refused
                      : FailureKind::retry_later;
      std::string detail = "prediction " + status;
      if (!error.empty()) detail += ": " + snippet(error);
      co_return failure(call, m, kind, std::move(detail));
    }
    std::string id;
    if (const auto* i = o.if_contains("id"); i && i->is_string()) id = i->as_string();
    if (id.empty() || id.find('/') != std::string::npos || !path_safe(id)) {
      co_return failure(call, m, FailureKind::retry_later,
                        "prediction without output or a usable id: " + snippet(res.body));
    }
    if (polls >= call.max_polls) {
      if (status.empty()) status = "?";
      std::string what = "prediction ";
      what.append(id).append(" not done after ").append(std::to_string(polls));
      what.append(" polls (status ").append(status).append(")");
      co_return failure(call, m, FailureKind::retry_later, std::move(what));
    }
    net::steady_timer timer(co_await net::this_coro::executor, call.poll_interval);
    co_await timer.async_wait(net::use_awaitable);
    sent = co_await send(call, m, get_json(call.router_base + "/replicate/v1/predictions/" + id, kMaxJsonAnswer));
  }
}

using Adapter = net::awaitable<GenerationOutcome> (*)(ProviderCall, ProviderMapping, GenerationRequest, ModelDefaults);

struct Entry {
  std::string_view name;
  Adapter adapter;
};

constexpr Entry kAdapters[] = {
    {"hf-inference", hf_inference}, {"fal-ai", fal_ai}, {"nscale", nscale},
    {"together", together},         {"nebius", nebius}, {"replicate", replicate},
};

std::optional<std::string> message_of(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_object()) {
    for (auto key : {"message", "msg", "error", "detail"}) {
      if (const auto* s = v.as_object().if_contains(key); s && s->is_string()) return std::string(s->as_string());
    }
  }
  return std::nullopt;
}

std::string joined(const json::value& v) {
  if (!v.is_array()) return message_of(v).value_or("");
  std::string out;
  for (const auto& item : v.as_array()) {
    if (auto s = message_of(item)) out += (out.empty() ? "" : "; ") + *s;
  }
  return out;
}

}  // namespace

bool is_usable_provider_id(std::string_view id) { return path_safe(id); }

bool has_adapter(std::string_view provider) {
  return std::any_of(std::begin(kAdapters), std::end(kAdapters), [&](const Entry& e) { return e.name == provider; });
}

std::vector<std::string_view> adapter_names() {
  std::vector<std::string_view> out;
  for (const auto& e : kAdapters) out.push_back(e.name);
  return out;
}

net::awaitable<GenerationOutcome> call_provider(ProviderCall call, ProviderMapping mapping, GenerationRequest request) {
  auto it = std::find_if(std::begin(kAdapters), std::end(kAdapters),
                         [&](const Entry& e) { return e.name == mapping.provider; });
  if (it == std::end(kAdapters)) {
    co_return failure(call, mapping, FailureKind::model_unavailable, "no adapter for this provider");
  }
  // The cache drops Hub entries with such ids; one here is ours (a job's model id), and a model id
  // that cannot be put in a URL is a bug, as the HTTP client treats a malformed URL.
  if (!path_safe(mapping.provider_id)) throw std::invalid_argument("unusable provider model id");
  const auto& defaults = defaults_for(request.model);
  co_return co_await it->adapter(std::move(call), std::move(mapping),
                                 apply_model_defaults(std::move(request), defaults), defaults);
}

std::optional<std::chrono::milliseconds> parse_ratelimit_reset(const std::string& value) {
  for (const auto& part : util::split(value, ';')) {
    for (const auto& item : util::split(part, ',')) {
      auto kv = util::trim(item);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      auto key = util::to_lower(util::trim(kv.substr(0, eq)));
      if (key != "t" && key != "reset") continue;
      if (auto secs = util::parse_int(util::trim(kv.substr(eq + 1))); secs && *secs >= 0) {
        return std::chrono::seconds(std::min<long long>(*secs, 24LL * 3600));
      }
    }
  }
  return std::nullopt;
}

GenerationFailure read_provider_error(const http::Response& res, const std::string& backend) {
  GenerationFailure f{.kind = kind_for_status(res.status), .backend = backend};
  std::string message;
  std::optional<double> estimated_time;
  boost::system::error_code ec;
  auto doc = json::parse(res.body, ec);
  if (!ec && doc.is_object()) {
    const auto& o = doc.as_object();
    for (auto key : {"error", "errors", "detail", "message"}) {
      if (const auto* v = o.if_contains(key)) {
        message = joined(*v);
        if (!message.empty()) break;
      }
    }
    if (const auto* t = o.if_contains("estimated_time"); t != nullptr && t->is_number()) {
      estimated_time = t->to_number<double>();
    }
  } else {
    message = snippet(res.body);
  }
  // huggingface_hub utils/_http.py hf_raise_for_status reads the server's message from this header.
  if (auto header = res.header("X-Error-Message"); !header.empty() && header != message) {
    message = message.empty() ? header : header + " (" + message + ")";
  }
  f.detail = "HTTP " + std::to_string(res.status) + ": " + snippet(message);
  if (estimated_time && std::isfinite(*estimated_time) && *estimated_time >= 0) {
    f.retry_after = std::chrono::milliseconds(static_cast<long long>(std::min(*estimated_time, 3600.0) * 1000));
  } else if (auto ra = parse_retry_after(res.header("Retry-After"))) {
    f.retry_after = ra;
  } else if (auto reset = parse_ratelimit_reset(res.header("RateLimit"))) {
    // huggingface/hub-docs docs/hub/rate-limits.md: RateLimit: "api";r=[remaining];t=[seconds to reset]
    f.retry_after = reset;
  }
  const auto lower = util::to_lower(message);
  if ((f.kind == FailureKind::invalid_request || f.kind == FailureKind::permanent) &&
      (lower.find("nsfw") != std::string::npos || lower.find("safety") != std::string::npos ||
       lower.find("inappropriate") != std::string::npos || lower.find("content policy") != std::string::npos)) {
    f.kind = FailureKind::content_refused;
  }
  if (res.status == 410)
    f.detail += " (the api-inference host is retired: set HF_API_BASE=https://router.huggingface.co)";
  return f;
}

}  // namespace igb::gen
