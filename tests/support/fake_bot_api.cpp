#include "support/fake_bot_api_internal.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <stdexcept>

// What tests call: updates pushed from users, the fake's state read back, failures and limits scripted.
namespace igb::testing {

namespace {

json::object other_content_json(const std::string& kind, std::int64_t n) {
  auto id = kind + "-in-" + std::to_string(n);
  if (kind == "sticker")
    return {{"file_id", id}, {"file_unique_id", "u" + id}, {"type", "regular"}, {"width", 512},
            {"height", 512}, {"is_animated", false},       {"is_video", false}, {"emoji", "\xF0\x9F\x98\x80"}};
  if (kind == "voice")
    return {{"file_id", id}, {"file_unique_id", "u" + id}, {"duration", 2}, {"mime_type", "audio/ogg"}};
  if (kind == "video" || kind == "animation")
    return {{"file_id", id}, {"file_unique_id", "u" + id}, {"width", 640}, {"height", 360}, {"duration", 3}};
  if (kind == "video_note") return {{"file_id", id}, {"file_unique_id", "u" + id}, {"length", 240}, {"duration", 3}};
  if (kind == "audio") return {{"file_id", id}, {"file_unique_id", "u" + id}, {"duration", 120}};
  if (kind == "location") return {{"latitude", 52.52}, {"longitude", 13.405}};
  if (kind == "contact") return {{"phone_number", "+10000000000"}, {"first_name", "Contact"}};
  if (kind == "poll")
    return {{"id", "poll-" + std::to_string(n)},
            {"question", "?"},
            {"options", json::array{json::object{{"text", "a"}, {"voter_count", 0}},
                                    json::object{{"text", "b"}, {"voter_count", 0}}}},
            {"total_voter_count", 0},
            {"is_closed", false},
            {"is_anonymous", true},
            {"type", "regular"},
            {"allows_multiple_answers", false}};
  if (kind == "dice") return {{"emoji", "\xF0\x9F\x8E\xB2"}, {"value", 3}};
  if (kind == "document")
    return {{"file_id", id}, {"file_unique_id", "u" + id}, {"file_name", "file.pdf"}, {"mime_type", "application/pdf"}};
  throw std::invalid_argument("FakeBotApi: unknown other_content " + kind);
}

json::array compute_entities(const std::string& text) {
  json::array out;
  auto word_end = [&](std::size_t from) {
    auto e = text.find_first_of(" \n\t", from);
    return e == std::string::npos ? text.size() : e;
  };
  if (!text.empty() && text[0] == '/') {
    auto end = word_end(0);
    out.push_back(json::object{{"type", "bot_command"}, {"offset", 0}, {"length", utf16_length(text.substr(0, end))}});
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '@' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\n') &&
        !(i > 0 && text[0] == '/' && i < word_end(0))) {
      auto end = word_end(i);
      if (end - i > 1)
        out.push_back(json::object{{"type", "mention"},
                                   {"offset", utf16_length(text.substr(0, i))},
                                   {"length", utf16_length(text.substr(i, end - i))}});
      i = end;
    }
  }
  return out;
}

}  // namespace

std::int64_t FakeBotApi::push_message(FakeTgPushMessage in) {
  std::lock_guard lock(impl_->mutex);
  auto& c = impl_->chat_of(in.from, in.chat);
  std::int64_t id = in.edit_of ? *in.edit_of : c.next_message_id++;
  json::object mj{{"message_id", id},
                  {"from", Impl::user_json(in.from)},
                  {"chat", impl_->chat_json(c)},
                  {"date", Impl::unix_now()}};
  auto entities = in.entities ? *in.entities : compute_entities(in.text);
  bool media = !in.other_content.empty();
  if (media) {
    if (in.other_content == "photo") {
      auto fid = "photo-in-" + std::to_string(impl_->next_other++);
      mj["photo"] =
          json::array{json::object{{"file_id", fid}, {"file_unique_id", "u" + fid}, {"width", 800}, {"height", 600}}};
    } else {
      mj[in.other_content] = other_content_json(in.other_content, impl_->next_other++);
    }
    if (!in.text.empty()) mj["caption"] = in.text;
    if (!entities.empty()) mj["caption_entities"] = entities;
  } else {
    mj["text"] = in.text;
    if (!entities.empty()) mj["entities"] = entities;
  }
  if (in.reply_to)
    if (auto it = c.message_json.find(*in.reply_to); it != c.message_json.end()) mj["reply_to_message"] = it->second;
  if (in.edit_of) mj["edit_date"] = Impl::unix_now();
  FakeTgMessage m{.chat_id = c.chat.id,
                  .message_id = id,
                  .from_bot = false,
                  .from_user_id = in.from.id,
                  .text = media ? "" : in.text,
                  .caption = media ? in.text : "",
                  .kind = media ? in.other_content : "text"};
  c.messages[id] = m;
  c.message_json[id] = mj;
  std::string line = "> " + in.from.first_name;
  if (in.edit_of) line += " edited #" + std::to_string(id);
  if (in.reply_to) line += " (reply to #" + std::to_string(*in.reply_to) + ")";
  line += ": ";
  if (media)
    line += "[" + in.other_content + "]" + (in.text.empty() ? "" : " " + Impl::indent_text(in.text));
  else
    line += Impl::indent_text(in.text);
  c.transcript.push_back(line);
  return impl_->enqueue(json::object{{in.edit_of ? "edited_message" : "message", mj}});
}

std::int64_t FakeBotApi::push_callback(FakeTgPushCallback in) {
  std::lock_guard lock(impl_->mutex);
  auto chat_id = in.chat_id.value_or(in.from.id);
  auto& c = in.chat_id && impl_->chats.contains(*in.chat_id) ? impl_->chats[*in.chat_id]
                                                             : impl_->chat_of(in.from, std::nullopt);
  auto id = "cbq-" + std::to_string(impl_->next_callback++);
  json::object q{{"id", id},
                 {"from", Impl::user_json(in.from)},
                 {"chat_instance", "ci" + std::to_string(chat_id)},
                 {"data", in.data}};
  auto mit = c.message_json.find(in.message_id);
  bool accessible = !in.inaccessible && mit != c.message_json.end() && !c.messages[in.message_id].deleted;
  if (accessible)
    q["message"] = mit->second;
  else
    q["message"] = json::object{{"chat", impl_->chat_json(c)}, {"message_id", in.message_id}, {"date", 0}};
  std::string label = in.data;
  if (accessible) {
    const auto& markup = c.messages[in.message_id].reply_markup;
    if (markup.is_object() && markup.as_object().contains("inline_keyboard"))
      for (const auto& row : markup.at("inline_keyboard").as_array())
        for (const auto& b : row.as_array())
          if (b.is_object() && str(b.as_object(), "callback_data") == in.data)
            label = str(b.as_object(), "text") + "|" + in.data;
  }
  impl_->callback_chat[id] = c.chat.id;
  c.transcript.push_back("> " + in.from.first_name + " pressed [" + label + "] on #" + std::to_string(in.message_id));
  return impl_->enqueue(json::object{{"callback_query", q}});
}

std::int64_t FakeBotApi::push_pre_checkout(FakeTgPushPreCheckout in) {
  std::lock_guard lock(impl_->mutex);
  auto& c = impl_->chat_of(in.from, std::nullopt);
  auto id = "pcq-" + std::to_string(impl_->next_pre_checkout++);
  impl_->pre_checkout_chat[id] = c.chat.id;
  c.transcript.push_back("> " + in.from.first_name + " pre-checkout " + std::to_string(in.total_amount) + " " +
                         in.currency + " " + in.invoice_payload);
  return impl_->enqueue(json::object{{"pre_checkout_query", json::object{{"id", id},
                                                                         {"from", Impl::user_json(in.from)},
                                                                         {"currency", in.currency},
                                                                         {"total_amount", in.total_amount},
                                                                         {"invoice_payload", in.invoice_payload}}}});
}

std::int64_t FakeBotApi::push_successful_payment(FakeTgPushPayment in) {
  std::lock_guard lock(impl_->mutex);
  auto& c = impl_->chat_of(in.from, in.chat);
  if (in.telegram_payment_charge_id.empty())
    in.telegram_payment_charge_id = "charge-" + std::to_string(impl_->next_charge++);
  if (in.provider_payment_charge_id.empty()) in.provider_payment_charge_id = "";
  impl_->charges[in.telegram_payment_charge_id] = Impl::Charge{.user_id = in.from.id};
  json::object sp{{"currency", in.currency},
                  {"total_amount", in.total_amount},
                  {"invoice_payload", in.invoice_payload},
                  {"telegram_payment_charge_id", in.telegram_payment_charge_id},
                  {"provider_payment_charge_id", in.provider_payment_charge_id}};
  if (in.subscription_expiration_date) sp["subscription_expiration_date"] = *in.subscription_expiration_date;
  if (in.is_recurring) sp["is_recurring"] = true;
  if (in.is_first_recurring) sp["is_first_recurring"] = true;
  auto id = c.next_message_id++;
  json::object mj{{"message_id", id},
                  {"from", Impl::user_json(in.from)},
                  {"chat", impl_->chat_json(c)},
                  {"date", Impl::unix_now()},
                  {"successful_payment", sp}};
  c.messages[id] =
      FakeTgMessage{.chat_id = c.chat.id, .message_id = id, .from_user_id = in.from.id, .kind = "successful_payment"};
  c.message_json[id] = mj;
  c.transcript.push_back("> " + in.from.first_name + " paid " + std::to_string(in.total_amount) + " " + in.currency +
                         " " + in.invoice_payload + " (" + in.telegram_payment_charge_id + ")");
  return impl_->enqueue(json::object{{"message", mj}});
}

std::int64_t FakeBotApi::push_my_chat_member(FakeTgPushChatMember in) {
  std::lock_guard lock(impl_->mutex);
  auto& c = impl_->chat_of(in.from, in.chat);
  if (c.chat.type == "private") {
    if (in.new_status == "kicked") impl_->blocked.insert(c.chat.id);
    if (in.new_status == "member") impl_->blocked.erase(c.chat.id);
  }
  auto member = [&](const std::string& status) {
    json::object o{{"status", status}, {"user", Impl::user_json(impl_->options.bot)}};
    if (status == "kicked") o["until_date"] = 0;
    if (status == "restricted") o["until_date"] = 0;
    return o;
  };
  c.transcript.push_back("> " + in.from.first_name + " my_chat_member " + in.old_status + " → " + in.new_status);
  return impl_->enqueue(json::object{{"my_chat_member", json::object{{"chat", impl_->chat_json(c)},
                                                                     {"from", Impl::user_json(in.from)},
                                                                     {"date", Impl::unix_now()},
                                                                     {"old_chat_member", member(in.old_status)},
                                                                     {"new_chat_member", member(in.new_status)}}}});
}

std::int64_t FakeBotApi::push_raw(json::object update) {
  std::lock_guard lock(impl_->mutex);
  update.erase("update_id");
  return impl_->enqueue(std::move(update));
}

void FakeBotApi::migrate_group(std::int64_t group_id, std::int64_t supergroup_id, FakeTgUser by, bool announce) {
  std::lock_guard lock(impl_->mutex);
  auto& group = impl_->chats[group_id];
  if (group.chat.id == 0) group.chat = FakeTgChat{.id = group_id, .type = "group"};
  const std::string title = group.chat.title;
  auto& super = impl_->chat_of(by, FakeTgChat{.id = supergroup_id, .type = "supergroup", .title = title});
  impl_->migrated[group_id] = supergroup_id;
  if (announce) {
    const std::int64_t old_id = group.next_message_id++;
    group.transcript.push_back("> " + by.first_name + " upgraded the group to supergroup " +
                               std::to_string(supergroup_id));
    impl_->enqueue(json::object{{"message", json::object{{"message_id", old_id},
                                                         {"from", Impl::user_json(by)},
                                                         {"chat", impl_->chat_json(group)},
                                                         {"date", Impl::unix_now()},
                                                         {"migrate_to_chat_id", supergroup_id}}}});
    const std::int64_t new_id = super.next_message_id++;
    super.transcript.push_back("> " + by.first_name + " (migrated from group " + std::to_string(group_id) + ")");
    impl_->enqueue(json::object{{"message", json::object{{"message_id", new_id},
                                                         {"from", Impl::user_json(by)},
                                                         {"chat", impl_->chat_json(super)},
                                                         {"date", Impl::unix_now()},
                                                         {"migrate_from_chat_id", group_id}}}});
  }
  impl_->notify();
}

void FakeBotApi::add_chat(FakeTgChat chat, FakeTgUser user) {
  std::lock_guard lock(impl_->mutex);
  auto& c = impl_->chats[chat.id];
  c.chat = chat;
  c.user = user;
  impl_->notify();
}

std::size_t FakeBotApi::pending_update_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->pending.size();
}

std::vector<std::string> FakeBotApi::allowed_updates() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->allowed;
}

std::int64_t FakeBotApi::get_updates_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->get_updates_answered;
}

std::size_t FakeBotApi::waiting_get_updates() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->pollers.size();
}

std::string FakeBotApi::webhook_url() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->webhook_url;
}

std::string FakeBotApi::webhook_secret() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->webhook_secret;
}

void FakeBotApi::set_member_status(std::int64_t chat_id, FakeTgUser user, std::string status) {
  std::lock_guard lock(impl_->mutex);
  const auto id = user.id;
  impl_->chats[chat_id].members[id] = {std::move(user), std::move(status)};
}

void FakeBotApi::block(std::int64_t chat_id) {
  std::lock_guard lock(impl_->mutex);
  impl_->blocked.insert(chat_id);
  impl_->notify();
}

void FakeBotApi::unblock(std::int64_t chat_id) {
  std::lock_guard lock(impl_->mutex);
  impl_->blocked.erase(chat_id);
  impl_->notify();
}

bool FakeBotApi::is_blocked(std::int64_t chat_id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->blocked.contains(chat_id);
}

std::vector<FakeTgMessage> FakeBotApi::messages(std::int64_t chat_id) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<FakeTgMessage> out;
  if (auto it = impl_->chats.find(chat_id); it != impl_->chats.end())
    for (const auto& [id, m] : it->second.messages) out.push_back(m);
  return out;
}

std::optional<FakeTgMessage> FakeBotApi::message(std::int64_t chat_id, std::int64_t message_id) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->chats.find(chat_id);
  if (it == impl_->chats.end()) return std::nullopt;
  auto m = it->second.messages.find(message_id);
  if (m == it->second.messages.end()) return std::nullopt;
  return m->second;
}

std::optional<FakeTgMessage> FakeBotApi::last_bot_message(std::int64_t chat_id) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->chats.find(chat_id);
  if (it == impl_->chats.end()) return std::nullopt;
  for (auto m = it->second.messages.rbegin(); m != it->second.messages.rend(); ++m)
    if (m->second.from_bot && !m->second.deleted) return m->second;
  return std::nullopt;
}

std::optional<std::string> FakeBotApi::file_bytes(const std::string& file_id) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->files.find(file_id);
  if (it == impl_->files.end()) return std::nullopt;
  return it->second.bytes;
}

json::array FakeBotApi::my_commands(const std::string& language_code) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->commands.find(language_code);
  return it == impl_->commands.end() ? json::array{} : it->second;
}

std::vector<std::string> FakeBotApi::refunded_charges() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->refunded;
}

void FakeBotApi::enable_rate_limits(FakeRateLimits limits) {
  std::lock_guard lock(impl_->mutex);
  impl_->limits = std::move(limits);
}

void FakeBotApi::disable_rate_limits() {
  std::lock_guard lock(impl_->mutex);
  impl_->limits.reset();
}

std::int64_t FakeBotApi::rate_limited_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->rate_limited;
}

void FakeBotApi::begin_outage(std::chrono::milliseconds duration) {
  auto* impl = impl_.get();
  {
    std::lock_guard lock(impl->mutex);
    impl->outage_until = Clock::now() + duration;
  }
  // Held long polls end with the 502 too (on the server thread, which owns the pollers).
  std::promise<void> done;
  net::post(impl->io, [impl, &done] {
    std::lock_guard lock(impl->mutex);
    for (auto* p : impl->pollers) {
      p->outage = true;
      p->timer->cancel();
    }
    done.set_value();
  });
  done.get_future().wait_for(std::chrono::seconds(10));
  impl->notify();
}

bool FakeBotApi::in_outage() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->in_outage();
}

std::int64_t FakeBotApi::outage_answered_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->outage_answered;
}

void FakeBotApi::fail_next(std::string method, int error_code, std::string description, std::optional<int> retry_after,
                           int times) {
  std::lock_guard lock(impl_->mutex);
  impl_->failures.push_back({std::move(method), error_code, std::move(description), retry_after, times});
}

std::vector<FakeTgCall> FakeBotApi::calls() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->calls;
}

std::vector<FakeTgCall> FakeBotApi::calls(const std::string& method) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<FakeTgCall> out;
  for (const auto& c : impl_->calls)
    if (c.method == method) out.push_back(c);
  return out;
}

std::size_t FakeBotApi::count_calls(const std::string& method) const {
  std::lock_guard lock(impl_->mutex);
  return static_cast<std::size_t>(
      std::count_if(impl_->calls.begin(), impl_->calls.end(), [&](const FakeTgCall& c) { return c.method == method; }));
}

std::vector<FakeSpecViolation> FakeBotApi::spec_violations() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->violations;
}

bool FakeBotApi::wait_until(const std::function<bool()>& pred, std::chrono::milliseconds guard) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, guard, pred);
}

}  // namespace igb::testing
