#pragma once
// An OpenAI-compatible chat completions client: POST {base}/chat/completions, non-streaming.
//
// Wire format, from the sources (no other documentation was trusted):
//   request  openai/openai-python src/openai/resources/chat/completions/completions.py (`create`:
//            model, messages [{role, content}], max_tokens, temperature, stream) and huggingface/
//            huggingface_hub src/huggingface_hub/inference/_client.py (`InferenceClient.chat_completion`,
//            which sends `max_tokens`, the parameter every OpenAI-compatible server takes; OpenAI's
//            newer `max_completion_tokens` is not read by the router's providers).
//   answer   openai/openai-python src/openai/types/chat/chat_completion.py (`ChatCompletion`:
//            choices[].message.content (nullable), .refusal, finish_reason "stop" | "length" |
//            "content_filter" | "tool_calls" | "function_call").
//   base     the Hugging Face router's OpenAI-compatible base is https://router.huggingface.co/v1
//            (huggingface/huggingface.js packages/tasks-gen/snippets-fixtures/with-access-token/
//            python/openai/0.hf-inference.py: `OpenAI(base_url="https://router.huggingface.co/v1")`);
//            like openai-python's base_url it ends in /v1 and the path appended is /chat/completions.
//   errors   {"error": {"message", "type", "code"}} (OpenAI), {"error": "…"} and a 503 with
//            "estimated_time" while a model loads (Hugging Face), Retry-After on 429.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.hpp"
#include "util/result.hpp"

namespace igb::assist {

namespace net = boost::asio;

struct ChatOptions {
  std::string base_url = "https://router.huggingface.co/v1";  // with /v1, without a trailing '/'
  std::string api_key;  // Authorization: Bearer; empty: none sent (a local server)
  std::string model;
  std::chrono::milliseconds timeout{4000};  // the whole exchange
  std::size_t max_response_bytes = 64 * 1024;  // a few hundred tokens of answer need far less
};

struct ChatMessage {
  std::string role;  // "system", "user"
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  int max_tokens = 256;
  double temperature = 0;
};

struct ChatReply {
  std::string content;        // the first choice's message content
  std::string finish_reason;  // as answered ("stop", "length", …); may be empty
};

enum class ChatFailureKind {
  timeout,          // the time box ran out
  unreachable,      // no connection, TLS, a broken or over-long answer
  rate_limited,     // 429
  loading,          // 503 while the model loads (Hugging Face)
  unavailable,      // other 5xx
  bad_credentials,  // 401, 403
  rejected,         // other 4xx: the request (model name, parameters) is refused
  garbage,          // 200 without a usable answer
};
const char* to_string(ChatFailureKind kind);

struct ChatFailure {
  ChatFailureKind kind = ChatFailureKind::garbage;
  std::optional<std::chrono::milliseconds> retry_after;  // Retry-After, or estimated_time of a 503
  std::string detail;  // for the log: never the key
};

using ChatOutcome = util::Result<ChatReply, ChatFailure>;

// The JSON body of a request (model, messages, max_tokens, temperature, stream: false).
std::string chat_request_body(std::string_view model, const ChatRequest& request);

// An answer read as the client reads it: any status, any headers, any body (hostile: fuzzed by
// fuzz/chat_answer_fuzz.cpp). Never throws.
ChatOutcome read_chat_answer(const http::Response& response);

class ChatCompletionsClient {
 public:
  // `http` must outlive this client and be used on the caller's executor only (not thread-safe).
  ChatCompletionsClient(http::Client& http, ChatOptions options);
  // Never throws for what the server or the network does (a failure value); cancellation of the
  // calling coroutine propagates as system_error(operation_aborted).
  net::awaitable<ChatOutcome> complete(ChatRequest request);
  const ChatOptions& options() const { return options_; }

 private:
  http::Client& http_;
  ChatOptions options_;
};

}  // namespace igb::assist
