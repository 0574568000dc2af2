#include "support/fake_chat_api.hpp"

#include <boost/json.hpp>

namespace igb::testing {

namespace json = boost::json;

namespace {

FakeResponse openai_error(int status, const std::string& message, const std::string& type, const char* code) {
  json::object error{{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (code != nullptr) error["code"] = code;
  return FakeResponse::json(json::serialize(json::object{{"error", std::move(error)}}), status);
}

FakeResponse completion(const std::string& model, json::value content, json::value refusal,
                        const std::string& finish_reason) {
  json::object message{{"role", "assistant"}, {"content", std::move(content)}, {"refusal", std::move(refusal)}};
  json::object choice{
      {"index", 0}, {"message", std::move(message)}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  json::object body{{"id", "chatcmpl-fake1"},
                    {"object", "chat.completion"},
                    {"created", 1764928800},
                    {"model", model},
                    {"choices", json::array{std::move(choice)}},
                    {"usage", json::object{{"prompt_tokens", 40}, {"completion_tokens", 12}, {"total_tokens", 52}}}};
  return FakeResponse::json(json::serialize(body));
}

}  // namespace

FakeChatApi::FakeChatApi(std::string key)
    : key_(std::move(key)),
      answer_([](const std::string& user) { return "an English prompt of " + std::to_string(user.size()) + " bytes"; }),
      server_([this](const FakeRequest& r) { return handle(r); }) {}

void FakeChatApi::set_answer(std::function<std::string(const std::string&)> answer) {
  std::lock_guard lock(mu_);
  answer_ = std::move(answer);
}

void FakeChatApi::set_fault(ChatFault fault, std::chrono::milliseconds slow_delay) {
  std::lock_guard lock(mu_);
  fault_ = fault;
  slow_delay_ = slow_delay;
}

std::vector<FakeChatCall> FakeChatApi::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::size_t FakeChatApi::bad_requests() const {
  std::lock_guard lock(mu_);
  return bad_requests_;
}

FakeResponse FakeChatApi::handle(const FakeRequest& r) {
  std::lock_guard lock(mu_);
  auto bad = [&](int status, const std::string& message) {
    ++bad_requests_;
    return openai_error(status, message, "invalid_request_error", nullptr);
  };
  if (r.path() != "/v1/chat/completions") {
    ++bad_requests_;
    return openai_error(404, "Invalid URL (" + r.method + " " + r.path() + ")", "invalid_request_error", nullptr);
  }
  if (r.method != "POST") return bad(405, "Method not allowed");
  FakeChatCall call{.authorization = r.header("Authorization")};
  if (!key_.empty() && call.authorization != "Bearer " + key_) {
    ++bad_requests_;
    return openai_error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
  }
  if (!r.header("Content-Type").starts_with("application/json")) return bad(400, "Content-Type must be JSON");
  boost::system::error_code ec;
  auto doc = json::parse(r.body, ec);
  if (ec || !doc.is_object()) return bad(400, "We could not parse the JSON body of your request.");
  const auto& o = doc.get_object();
  const auto* model = o.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty())
    return bad(400, "you must provide a model parameter");
  call.model = std::string(model->get_string());
  const auto* messages = o.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return bad(400, "'messages' must be a non-empty array");
  }
  for (const auto& m : messages->get_array()) {
    const auto* mo = m.if_object();
    const auto* role = mo != nullptr ? mo->if_contains("role") : nullptr;
    const auto* content = mo != nullptr ? mo->if_contains("content") : nullptr;
    if (role == nullptr || !role->is_string() || content == nullptr || !content->is_string()) {
      return bad(400, "each message needs a string role and content");
    }
    const auto& rs = role->get_string();
    if (rs == "system") {
      call.system = std::string(content->get_string());
    } else if (rs == "user") {
      call.user = std::string(content->get_string());
    } else if (rs != "assistant") {
      return bad(400, "Invalid value for 'messages[].role'");
    }
  }
  if (const auto* mt = o.if_contains("max_tokens")) {
    if (!mt->is_int64() || mt->get_int64() < 1) return bad(400, "max_tokens must be a positive integer");
    call.max_tokens = mt->get_int64();
  }
  if (const auto* t = o.if_contains("temperature")) {
    if (!t->is_number()) return bad(400, "temperature must be a number");
    call.temperature = t->to_number<double>();
    if (call.temperature < 0 || call.temperature > 2) return bad(400, "temperature must be from 0 to 2");
  }
  if (const auto* s = o.if_contains("stream"); s != nullptr && !(s->is_bool() && !s->get_bool())) {
    return bad(400, "this fake answers only stream: false");
  }
  calls_.push_back(call);

  switch (fault_) {
    case ChatFault::none: break;
    case ChatFault::unauthorized:
      return openai_error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
    case ChatFault::rate_limited: {
      auto res = openai_error(429, "Rate limit reached for requests", "requests", "rate_limit_exceeded");
      res.headers.emplace_back("Retry-After", "17");
      return res;
    }
    case ChatFault::loading:
      return FakeResponse::json(json::serialize(json::object{{"error", "Model " + call.model + " is currently loading"},
                                                             {"estimated_time", 20.0}}),
                                503);
    case ChatFault::server_error: return openai_error(500, "The server had an error", "server_error", nullptr);
    case ChatFault::malformed_json:
      return FakeResponse::json(R"({"id":"chatcmpl-x","choices":[{"message":{"content":"a c)");
    case ChatFault::slow: {
      auto res = completion(call.model, json::string(answer_(call.user)), nullptr, "stop");
      res.delay = slow_delay_;
      return res;
    }
    case ChatFault::refusal: return completion(call.model, nullptr, "I can't help with that.", "stop");
    case ChatFault::cut_off: return completion(call.model, json::string(answer_(call.user)), nullptr, "length");
  }
  return completion(call.model, json::string(answer_(call.user)), nullptr, "stop");
}

}  // namespace igb::testing
