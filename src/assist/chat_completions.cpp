#include "assist/chat_completions.hpp"

#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include <cmath>
#include <utility>

#include "gen/http_util.hpp"

namespace igb::assist {

namespace json = boost::json;

const char* to_string(ChatFailureKind kind) {
  switch (kind) {
    case ChatFailureKind::timeout: return "timeout";
    case ChatFailureKind::unreachable: return "unreachable";
    case ChatFailureKind::rate_limited: return "rate_limited";
    case ChatFailureKind::loading: return "loading";
    case ChatFailureKind::unavailable: return "unavailable";
    case ChatFailureKind::bad_credentials: return "bad_credentials";
    case ChatFailureKind::rejected: return "rejected";
    case ChatFailureKind::garbage: return "garbage";
  }
  return "?";
}

std::string chat_request_body(std::string_view model, const ChatRequest& request) {
  json::array messages;
  for (const auto& m : request.messages) messages.push_back(json::object{{"role", m.role}, {"content", m.content}});
  json::object body{{"model", model},
                    {"messages", std::move(messages)},
                    {"max_tokens", request.max_tokens},
                    {"temperature", request.temperature},
                    {"stream", false}};
  return json::serialize(body);
}

namespace {

// Deeper nesting than any answer of the wire format is refused before it costs stack.
json::value parse_bounded(std::string_view body, boost::system::error_code& ec) {
  json::parse_options opts;
  opts.max_depth = 32;
  return json::parse(body, ec, {}, opts);
}

// The error's message in the shapes servers use: {"error": {"message"}}, {"error": "…"},
// {"message"}, {"detail": "…"}. Cut for the log.
std::string error_message(const json::value& doc) {
  const auto* o = doc.if_object();
  if (o == nullptr) return {};
  if (const auto* e = o->if_contains("error")) {
    if (const auto* s = e->if_string()) return gen::snippet(std::string(*s));
    if (const auto* eo = e->if_object()) {
      if (const auto* m = eo->if_contains("message"); m != nullptr && m->is_string()) {
        return gen::snippet(std::string(m->get_string()));
      }
    }
  }
  for (const char* key : {"message", "detail"}) {
    if (const auto* m = o->if_contains(key); m != nullptr && m->is_string()) {
      return gen::snippet(std::string(m->get_string()));
    }
  }
  return {};
}

// Hugging Face's 503 while a model loads: {"error": "…loading", "estimated_time": 20.5} (seconds).
std::optional<std::chrono::milliseconds> estimated_time(const json::value& doc) {
  const auto* o = doc.if_object();
  if (o == nullptr) return std::nullopt;
  const auto* v = o->if_contains("estimated_time");
  if (v == nullptr) return std::nullopt;
  double s = v->is_double() ? v->get_double() : v->is_int64() ? static_cast<double>(v->get_int64()) : -1;
  if (!std::isfinite(s) || s < 0) return std::nullopt;
  s = std::min(s, 3600.0);
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

ChatFailure failure(ChatFailureKind kind, std::string detail) {
  return ChatFailure{.kind = kind, .retry_after = std::nullopt, .detail = std::move(detail)};
}

}  // namespace

ChatOutcome read_chat_answer(const http::Response& response) {
  boost::system::error_code ec;
  auto doc = parse_bounded(response.body, ec);
  if (response.status != 200) {
    std::string message = ec ? gen::snippet(response.body) : error_message(doc);
    ChatFailure f;
    f.detail = "HTTP " + std::to_string(response.status) + (message.empty() ? "" : ": " + message);
    f.retry_after = gen::parse_retry_after(response.header("Retry-After"));
    const int s = response.status;
    if (s == 401 || s == 403) {
      f.kind = ChatFailureKind::bad_credentials;
    } else if (s == 429) {
      f.kind = ChatFailureKind::rate_limited;
    } else if (s == 503 && !ec && estimated_time(doc)) {
      f.kind = ChatFailureKind::loading;
      if (!f.retry_after) f.retry_after = estimated_time(doc);
    } else if (s >= 500) {
      f.kind = ChatFailureKind::unavailable;
    } else {
      f.kind = ChatFailureKind::rejected;
    }
    return f;
  }
  // A 200's body holds the model's words (about the user's prompt): only its size goes to the log.
  if (ec) return failure(ChatFailureKind::garbage, "not JSON (" + std::to_string(response.body.size()) + " bytes)");
  const auto* o = doc.if_object();
  const json::array* choices = nullptr;
  if (o != nullptr) {
    if (const auto* c = o->if_contains("choices")) choices = c->if_array();
  }
  if (choices == nullptr || choices->empty() || !choices->front().is_object()) {
    // Some servers answer errors with 200.
    auto message = error_message(doc);
    return failure(ChatFailureKind::garbage, message.empty() ? "no choices" : "error: " + message);
  }
  const auto& choice = choices->front().get_object();
  ChatReply reply;
  if (const auto* fr = choice.if_contains("finish_reason"); fr != nullptr && fr->is_string()) {
    reply.finish_reason = std::string(fr->get_string());
  }
  const auto* message = choice.if_contains("message");
  const auto* mo = message != nullptr ? message->if_object() : nullptr;
  if (mo == nullptr) return failure(ChatFailureKind::garbage, "choices[0].message is not an object");
  if (const auto* r = mo->if_contains("refusal"); r != nullptr && r->is_string() && !r->get_string().empty()) {
    return failure(ChatFailureKind::garbage, "the model refused");
  }
  const auto* content = mo->if_contains("content");
  if (content == nullptr || !content->is_string()) {
    return failure(ChatFailureKind::garbage, "choices[0].message.content is not a string");
  }
  reply.content = std::string(content->get_string());
  return reply;
}

ChatCompletionsClient::ChatCompletionsClient(http::Client& http, ChatOptions options)
    : http_(http), options_(std::move(options)) {}

net::awaitable<ChatOutcome> ChatCompletionsClient::complete(ChatRequest request) {
  http::Request r{.method = "POST",
                  .url = options_.base_url + "/chat/completions",
                  .headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}},
                  .body = chat_request_body(options_.model, request),
                  .timeout = options_.timeout,
                  .max_response_bytes = options_.max_response_bytes};
  if (!options_.api_key.empty()) r.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  http::Response response;
  try {
    response = co_await http_.send(std::move(r));
  } catch (const http::TransportError& e) {
    // what() names scheme, host and port only (never the path or a header).
    co_return failure(
        e.kind() == http::TransportError::Kind::timeout ? ChatFailureKind::timeout : ChatFailureKind::unreachable,
        e.what());
  }
  co_return read_chat_answer(response);
}

}  // namespace igb::assist
