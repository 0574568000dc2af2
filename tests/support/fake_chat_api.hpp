#pragma once
// A fake OpenAI-compatible chat completions endpoint (POST /v1/chat/completions) on 127.0.0.1:0, in
// the real wire format, errors included. Sources of what it accepts and answers:
//   request  openai/openai-python src/openai/resources/chat/completions/completions.py (`create`) and
//            huggingface/huggingface_hub src/huggingface_hub/inference/_client.py (`chat_completion`):
//            model, messages [{role, content}], max_tokens, temperature, stream.
//   answer   openai/openai-python src/openai/types/chat/chat_completion.py (`ChatCompletion`, `Choice`)
//            and types/chat/chat_completion_message.py (content and refusal, both nullable).
//   errors   OpenAI's {"error": {"message", "type", "param", "code"}} (401 invalid_api_key, 429 with
//            Retry-After, 400 invalid_request_error); the Hugging Face 503 while a model loads,
//            {"error": "Model … is currently loading", "estimated_time": 20.0} (SunbirdAI/
//            huggingface-models-tutorial README.md, "Model loading error").
// It checks each request as a server would: a wrong path, method, key or body is answered with the
// error the real service gives, and counted (bad_requests()) so tests can insist there were none.
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "support/fake_http_server.hpp"

namespace igb::testing {

struct FakeChatCall {
  std::string authorization;  // the header as received
  std::string model;
  std::string system;  // the system message's content
  std::string user;    // the (last) user message's content
  long long max_tokens = 0;
  double temperature = -1;
};

enum class ChatFault {
  none,
  unauthorized,    // 401 invalid_api_key
  rate_limited,    // 429, Retry-After: 17
  loading,         // 503 {"error": "… is currently loading", "estimated_time": 20.0}
  server_error,    // 500
  malformed_json,  // 200 with a body that is not JSON
  slow,            // a good answer after `slow_delay` (beyond a client's time box)
  refusal,         // 200, content null, refusal set
  cut_off,         // 200, finish_reason "length"
};

class FakeChatApi {
 public:
  // `key`: the token a request must carry as Authorization: Bearer (empty: none required).
  explicit FakeChatApi(std::string key = "");

  std::string base_url() const { return server_.base_url() + "/v1"; }  // as PROMPT_ASSISTANT_URL
  // The content answered for a user message (default: "an English prompt of <N> bytes").
  void set_answer(std::function<std::string(const std::string& user)> answer);
  void set_fault(ChatFault fault, std::chrono::milliseconds slow_delay = std::chrono::seconds(3));

  std::vector<FakeChatCall> calls() const;
  std::size_t bad_requests() const;
  FakeHttpServer& server() { return server_; }

 private:
  FakeResponse handle(const FakeRequest& r);

  std::string key_;
  mutable std::mutex mu_;
  std::function<std::string(const std::string&)> answer_;
  ChatFault fault_ = ChatFault::none;
  std::chrono::milliseconds slow_delay_{3000};
  std::vector<FakeChatCall> calls_;
  std::size_t bad_requests_ = 0;
  FakeHttpServer server_;  // last: its thread calls handle() until it is destroyed first
};

}  // namespace igb::testing
