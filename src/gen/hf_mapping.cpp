#include "gen/hf_mapping.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "gen/hf_providers.hpp"
#include "gen/http_util.hpp"
#include "util/strings.hpp"

namespace igb::gen {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxHubAnswer = std::size_t{1024} * 1024;
constexpr std::string_view kTask = "text-to-image";

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<ProviderMapping> entry_of(const json::value& v, std::string provider) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  if (provider.empty()) provider = string_at(o, "provider");
  ProviderMapping m{.provider = std::move(provider),
                    .provider_id = string_at(o, "providerId"),
                    .status = string_at(o, "status"),
                    .task = string_at(o, "task")};
  if (m.provider.empty() || m.provider_id.empty() || m.status.empty() || m.task.empty()) return std::nullopt;
  return m;
}

bool is_model_id(std::string_view s) {
  auto slash = s.find('/');
  auto ok = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.'; };
  return slash != std::string_view::npos && slash > 0 && slash + 1 < s.size() && s.size() <= 200 &&
         std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(slash), ok) &&
         std::all_of(s.begin() + static_cast<std::ptrdiff_t>(slash) + 1, s.end(), ok) &&
         s.find("..") == std::string_view::npos;
}

std::string names_of(const std::vector<ProviderMapping>& list) {
  std::string out;
  for (const auto& m : list) out += (out.empty() ? "" : ", ") + m.provider + " (" + m.provider_id + ")";
  return out.empty() ? "(none)" : out;
}

}  // namespace

core::Result<std::vector<ProviderMapping>> parse_provider_mapping(const std::string& body) {
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (ec || !doc.is_object()) {
    return core::make_error(core::ErrorCode::unavailable, "the Hub's answer is not a JSON object",
                            "hub answer: " + snippet(body));
  }
  const auto* field = doc.as_object().if_contains("inferenceProviderMapping");
  if (field == nullptr || field->is_null()) {
    return core::make_error(core::ErrorCode::not_found, "the Hub has no inference provider mapping for this model");
  }
  std::vector<ProviderMapping> out;
  // huggingface_hub hf_api.py ModelInfo: "API returns a dict on model_info and a list on list_models".
  if (field->is_object()) {
    for (const auto& [provider, value] : field->as_object()) {
      if (auto m = entry_of(value, std::string(provider))) out.push_back(std::move(*m));
    }
  } else if (field->is_array()) {
    for (const auto& value : field->as_array()) {
      if (auto m = entry_of(value, {})) out.push_back(std::move(*m));
    }
  } else {
    return core::make_error(core::ErrorCode::unavailable,
                            "the Hub's inferenceProviderMapping is neither an object nor a list");
  }
  return out;
}

net::awaitable<core::Result<std::vector<ProviderMapping>>> fetch_provider_mapping(http::Client& client,
                                                                                  HubOptions options,
                                                                                  std::string model) {
  if (!is_model_id(model)) {
    co_return core::make_error(core::ErrorCode::invalid_argument, "not a Hugging Face model id: " + snippet(model));
  }
  // '[' and ']' percent-encoded: the same query the official clients send, in RFC 3986 form.
  http::Request req{.method = "GET",
                    .url = options.hub_base + "/api/models/" + model + "?expand%5B%5D=inferenceProviderMapping",
                    .headers = {{"Accept", "application/json"}},
                    .timeout = options.timeout,
                    .max_response_bytes = kMaxHubAnswer};
  if (!options.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + options.token);
  http::Response res;
  try {
    res = co_await client.send(std::move(req));
  } catch (const http::TransportError& e) {
    if (e.kind() == http::TransportError::Kind::canceled) throw;
    co_return core::make_error(core::ErrorCode::unavailable,
                               std::string("cannot reach the Hugging Face Hub: ") + e.what());
  }
  if (res.status != 200) {
    auto f = read_provider_error(res, "hub");
    core::ErrorCode code = res.status == 404                        ? core::ErrorCode::not_found
                           : res.status == 401 || res.status == 403 ? core::ErrorCode::unauthenticated
                           : res.status == 429                      ? core::ErrorCode::rate_limited
                                                                    : core::ErrorCode::unavailable;
    auto what = res.status == 404 ? "the Hub does not know the model " + model
                : res.status == 401 || res.status == 403
                    ? "the Hub refused the token (HF_TOKEN) for " + model
                    : "the Hub answered the mapping of " + model + " with an error";
    core::Error error = core::make_error(code, what + " (" + f.detail + ")");
    error.retry_after = f.retry_after;
    co_return error;
  }
  co_return parse_provider_mapping(res.body);
}

std::vector<ProviderMapping> usable_providers(const std::vector<ProviderMapping>& mapping,
                                              const std::vector<std::string>& pinned) {
  auto usable = [](const ProviderMapping& m) { return m.status == "live" && m.task == kTask; };
  std::vector<ProviderMapping> out;
  const bool automatic = pinned.empty() || (pinned.size() == 1 && pinned.front() == "auto");
  if (automatic) {
    // Both official clients take the mapping's first entry for provider="auto"; the Hub orders it by
    // the token owner's preference (https://hf.co/settings/inference-providers). We keep that order
    // and fail over along it.
    for (const auto& m : mapping)
      if (usable(m)) out.push_back(m);
    return out;
  }
  for (const auto& name : pinned) {
    auto it = std::find_if(mapping.begin(), mapping.end(),
                           [&](const ProviderMapping& m) { return m.provider == name && usable(m); });
    if (it != mapping.end() &&
        std::none_of(out.begin(), out.end(), [&](const auto& o) { return o.provider == name; })) {
      out.push_back(*it);
    }
  }
  return out;
}

std::vector<std::string> parse_provider_list(const std::string& value) {
  std::vector<std::string> out;
  for (const auto& item : util::split(value, ',')) {
    auto name = util::to_lower(util::trim(item));
    if (name.empty()) continue;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  if (out.size() == 1 && out.front() == "auto") out.clear();
  return out;
}

// --- the cache ---------------------------------------------------------------------------------------

std::vector<ProviderMapping> ProviderMappingCache::fallback(const std::string& model) const {
  const auto& pinned = options_.pinned;
  if (!pinned.empty() && std::find(pinned.begin(), pinned.end(), "hf-inference") == pinned.end()) return {};
  return {
      ProviderMapping{.provider = "hf-inference", .provider_id = model, .status = "live", .task = std::string(kTask)}};
}

net::awaitable<void> ProviderMappingCache::refresh(std::string model) {
  // One fetch at a time per model once there is a mapping to serve meanwhile; before the first one
  // succeeds, every caller fetches (jobs at start-up do not fall back while the first fetch runs).
  auto& entry = entries_[model];
  if (entry.in_flight > 0 && entry.have) co_return;
  ++entry.in_flight;
  struct Done {
    ProviderMappingCache* self;
    std::string model;
    ~Done() { --self->entries_[model].in_flight; }
  } done{this, model};

  auto result = co_await fetch_provider_mapping(client_, options_.hub, model);
  auto& e = entries_[model];  // the map may have grown meanwhile; references into std::map stay valid
  const auto now = clock_.now();
  if (!result) {
    e.next_try = now + options_.retry_failed;
    if (e.have) {
      spdlog::warn("hf providers of {}: refreshing the mapping failed, keeping the last one: {}", model,
                   result.error().public_message);
    } else {
      spdlog::error("hf providers of {}: cannot read the mapping from the Hub ({}); using {}", model,
                    result.error().public_message, names_of(fallback(model)));
    }
    co_return;
  }
  std::vector<ProviderMapping> usable;
  std::string skipped;
  for (auto& m : usable_providers(*result, options_.pinned)) {
    if (has_adapter(m.provider) && is_usable_provider_id(m.provider_id)) {
      usable.push_back(std::move(m));
    } else {
      skipped += (skipped.empty() ? "" : ", ") + m.provider;
    }
  }
  const bool changed = !e.have || e.usable.size() != usable.size() ||
                       !std::equal(usable.begin(), usable.end(), e.usable.begin(), [](const auto& a, const auto& b) {
                         return a.provider == b.provider && a.provider_id == b.provider_id;
                       });
  if (changed) {
    if (usable.empty()) {
      spdlog::error("hf providers of {}: none usable (live for text-to-image{}{}); the mapping names: {}", model,
                    options_.pinned.empty() ? "" : ", among HF_PROVIDER",
                    skipped.empty() ? "" : "; no adapter or an unusable id: " + skipped, names_of(*result));
    } else {
      spdlog::info("hf providers of {}: {}{}", model, names_of(usable),
                   skipped.empty() ? "" : " (no adapter or an unusable id: " + skipped + ")");
    }
  }
  e.usable = std::move(usable);
  e.have = true;
  e.fetched_at = now;
}

net::awaitable<std::vector<ProviderMapping>> ProviderMappingCache::providers(std::string model) {
  const auto now = clock_.now();
  auto& e = entries_[model];
  const bool fresh = e.have && now - e.fetched_at < options_.refresh;
  if (!fresh && now >= e.next_try && !(e.have && e.in_flight > 0)) co_await refresh(model);
  const auto& after = entries_[model];
  co_return after.have ? after.usable : fallback(model);
}

net::awaitable<void> ProviderMappingCache::refresh_all() {
  std::vector<std::string> models;
  models.reserve(entries_.size());
  for (const auto& [model, entry] : entries_) models.push_back(model);
  for (auto& model : models) co_await refresh(model);
}

}  // namespace igb::gen
