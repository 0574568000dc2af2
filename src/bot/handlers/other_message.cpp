// A message without text (photo, sticker, voice…): image-to-image is not offered yet, so say what is.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> other_message(Context& c) {
  const auto* m = c.message();
  bool photo = m && (!m->photo.empty() || (m->document && m->document->mime_type.starts_with("image/")));
  auto text = c.t(photo ? "input.photo" : "input.other");
  auto sent = co_await c.reply_text(std::move(text), c.message_id());
  (void)sent;
}

}  // namespace

void register_other_message(Router& r) { r.on(UpdateKind::other_message, other_message, "other message"); }

}  // namespace igb::bot::handlers
