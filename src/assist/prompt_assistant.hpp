#pragma once
// The prompt assistant (issue 17, "Prompts in any language"): asks a chat model to translate a prompt
// into English, or to enrich it, within a time box. Any failure (slow, down, refusing, answering
// garbage) is nullopt: the caller keeps the user's own prompt and nothing fails. One log line says
// why (never the key, never the prompt).
//
// Cost bounds: the prompt is already limited (PromptLimits), the answer by max_tokens and the
// response size; at most max_in_flight calls at once (more are skipped, not queued); after a 429, a
// loading model, refused credentials or model, or three failures in a row, calls are skipped until
// the cooldown ends, so a down assistant does not add its time box to every prompt.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "assist/chat_completions.hpp"
#include "core/clock.hpp"
#include "http/client.hpp"

namespace igb::assist {

struct AssistantOptions {
  ChatOptions chat;  // the endpoint, the model and the time box (chat.timeout)
  int max_tokens = 256;         // per answer; an enriched prompt is asked to stay under ~80 words
  std::size_t max_chars = 1000;  // code points; a longer answer is refused (a prompt's own limit)
  std::size_t max_bytes = 2000;  // and in bytes (core::JobOptions::max_prompt_bytes)
  int max_in_flight = 16;
  std::chrono::seconds failure_cooldown{30};  // after three failures in a row, or a 429/503 without a hint
  std::chrono::seconds config_cooldown{600};  // after 401/403 or a refused request (model name)
  std::chrono::seconds max_cooldown{600};     // a server's Retry-After is honoured up to this
};

enum class AssistTask { translate, enhance };

class PromptAssistant {
 public:
  // `http` and `clock` must outlive it. Not thread-safe: use it on one executor (the bot's).
  PromptAssistant(http::Client& http, const core::Clock& clock, AssistantOptions options);

  // The prompt in English; nullopt: keep the original.
  net::awaitable<std::optional<std::string>> translate(std::string prompt);
  // The prompt enriched (detail, style, composition, lighting), in English; nullopt: not available.
  net::awaitable<std::optional<std::string>> enhance(std::string prompt);

  const std::string& model() const { return chat_.options().model; }
  // Until when calls are skipped (tests, logs); nullopt: not paused.
  std::optional<core::Timestamp> paused_until() const { return paused_until_; }

 private:
  net::awaitable<std::optional<std::string>> ask(AssistTask task, std::string prompt);
  void note_failure(const ChatFailure& f);

  ChatCompletionsClient chat_;
  const core::Clock& clock_;
  AssistantOptions options_;
  int in_flight_ = 0;
  int failures_in_row_ = 0;
  std::optional<core::Timestamp> paused_until_;
};

}  // namespace igb::assist
