// A button no handler takes: data we never sent, or of a kind the chat does not allow.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> stale_button(Context& c) { co_await c.answer_callback("button.stale"); }

}  // namespace

void register_stale_button(Router& r) { r.unknown_button(stale_button); }

}  // namespace igb::bot::handlers
