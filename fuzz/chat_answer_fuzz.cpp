// The prompt assistant's answers: what an OpenAI-compatible chat endpoint sends back is hostile
// input (any status, headers, JSON in any shape, any text as the model's content). The harness reads
// the answer as the client does (assist::read_chat_answer) and the content as the assistant does
// (assist::clean_answer), and runs the detection rule over the raw bytes.
// Input: status, header lines ("Name: value") and body, separated by "\n--8<--\n".
// Oracles besides the sanitizers: nothing throws; a cleaned answer is valid UTF-8, not empty, within
// the limit, free of control characters and line breaks, and (for a translation) needs no translation.
#include <string>

#include "assist/chat_completions.hpp"
#include "assist/language.hpp"
#include "fuzz_input.hpp"
#include "http_answer.hpp"
#include "util/strings.hpp"

namespace http = igb::http;
namespace assist = igb::assist;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = igb::fuzz::as_view(data, size);
  (void)assist::needs_translation(input);
  auto f = igb::fuzz::split_fields(input, 3);
  auto r = igb::fuzz::http_answer(f[0], f[1], f[2]);

  auto outcome = assist::read_chat_answer(r);
  if (!outcome.ok()) {
    if (outcome.error().retry_after) IGB_FUZZ_CHECK(outcome.error().retry_after->count() >= 0);
    return 0;
  }
  IGB_FUZZ_CHECK(r.status == 200);
  for (bool english_only : {true, false}) {
    auto text = assist::clean_answer(outcome->content, 64, english_only);
    if (!text) continue;
    IGB_FUZZ_CHECK(!text->empty());
    IGB_FUZZ_CHECK(igb::util::is_valid_utf8(*text));
    IGB_FUZZ_CHECK(igb::util::utf8_length(*text) <= 64);
    for (char ch : *text) IGB_FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7F);
    if (english_only) IGB_FUZZ_CHECK(!assist::needs_translation(*text));
  }
  return 0;
}
