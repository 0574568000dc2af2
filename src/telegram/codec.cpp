#include "telegram/codec.hpp"

#include <boost/json.hpp>

#include <limits>

#include "json/fields.hpp"

namespace igb::telegram {

namespace json = boost::json;

namespace {

using Errors = std::vector<std::string>;

// Reads the fields of one JSON object, recording "path.field: problem" for each bad one. Scalars go
// through the field reader the API's bodies use too (json/fields.hpp), in Telegram's dialect: a
// null is missing, and an integer is a JSON integer.
class Fields {
 public:
  Fields(const json::value& v, std::string path, Errors& errors) : path_(std::move(path)), errors_(errors) {
    if (v.is_object()) {
      object_ = &v.as_object();
    } else {
      errors_.push_back(path_ + ": expected object");
    }
  }

  bool valid() const { return object_ != nullptr; }
  const std::string& path() const { return path_; }
  std::string at(const char* key) const { return path_ + "." + key; }

  const json::value* find(const char* key, bool required) {
    if (!object_) return nullptr;
    auto it = object_->find(key);
    if (it == object_->end() || it->value().is_null()) {
      if (required) errors_.push_back(at(key) + ": missing");
      return nullptr;
    }
    return &it->value();
  }

  bool has(const char* key) const { return object_ && object_->contains(key); }

  void integer(const char* key, std::int64_t& out, bool required = true) {
    if (auto* v = scalar({.name = key, .type = json_fields::Type::integer, .required = required})) {
      out = *json_fields::to_integer(*v, kDialect.integral_doubles);
    }
  }

  void integer(const char* key, int& out, bool required = true) {
    if (auto* v = scalar({.name = key,
                          .type = json_fields::Type::integer,
                          .required = required,
                          .minimum = std::numeric_limits<int>::min(),
                          .maximum = std::numeric_limits<int>::max()})) {
      out = static_cast<int>(*json_fields::to_integer(*v, kDialect.integral_doubles));
    }
  }

  void integer(const char* key, std::optional<std::int64_t>& out) {
    if (auto* v = scalar({.name = key, .type = json_fields::Type::integer})) {
      out = *json_fields::to_integer(*v, kDialect.integral_doubles);
    }
  }

  void string(const char* key, std::string& out, bool required = false) {
    if (auto* v = scalar({.name = key, .type = json_fields::Type::string, .required = required})) {
      out = std::string(v->as_string());
    }
  }

  void boolean(const char* key, bool& out, bool required = false) {
    if (auto* v = scalar({.name = key, .type = json_fields::Type::boolean, .required = required})) {
      out = v->as_bool();
    }
  }

  template <class T, class Decode>
  void object(const char* key, T& out, Decode decode, bool required = true) {
    if (auto* v = find(key, required)) decode(*v, at(key), errors_, out);
  }

  template <class T, class Decode>
  void optional(const char* key, std::optional<T>& out, Decode decode) {
    if (auto* v = find(key, false)) {
      T value;
      auto before = errors_.size();
      decode(*v, at(key), errors_, value);
      if (errors_.size() == before) out = std::move(value);
    }
  }

  template <class T, class Decode>
  void array(const char* key, std::vector<T>& out, Decode decode) {
    auto* v = find(key, false);
    if (!v) return;
    if (!v->is_array()) {
      errors_.push_back(at(key) + ": expected array");
      return;
    }
    const auto& a = v->as_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      T value;
      decode(a[i], at(key) + "[" + std::to_string(i) + "]", errors_, value);
      out.push_back(std::move(value));
    }
  }

 private:
  static constexpr json_fields::Dialect kDialect{.null_is_missing = true, .integral_doubles = false};

  // The field's value when present and good; null when absent (or null) or bad, the problem recorded.
  const json::value* scalar(const json_fields::Field& field) {
    if (!object_) return nullptr;
    const auto* v = json_fields::find(*object_, field.name, true);
    if (auto problem = json_fields::check(v, field, kDialect)) {
      errors_.push_back(at(field.name) + ": " + worded(field, *problem));
      return nullptr;
    }
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  static const char* worded(const json_fields::Field& field, json_fields::Problem problem) {
    switch (problem) {
      case json_fields::Problem::missing: return "missing";
      case json_fields::Problem::range: return "integer out of range";
      case json_fields::Problem::type:
      case json_fields::Problem::length:
      case json_fields::Problem::choice: break;
    }
    switch (field.type) {
      case json_fields::Type::integer: return "expected integer";
      case json_fields::Type::string: return "expected string";
      case json_fields::Type::boolean: return "expected boolean";
    }
    return "invalid";
  }

  std::string at(std::string_view key) const { return path_ + "." + std::string(key); }

  const json::object* object_ = nullptr;
  std::string path_;
  Errors& errors_;
};

void decode(const json::value& v, const std::string& path, Errors& e, User& out) {
  Fields f(v, path, e);
  f.integer("id", out.id);
  f.boolean("is_bot", out.is_bot);
  f.string("first_name", out.first_name, true);
  f.string("last_name", out.last_name);
  f.string("username", out.username);
  f.string("language_code", out.language_code);
}

void decode(const json::value& v, const std::string& path, Errors& e, Chat& out) {
  Fields f(v, path, e);
  f.integer("id", out.id);
  f.string("type", out.type, true);
  f.string("title", out.title);
  f.string("username", out.username);
}

void decode(const json::value& v, const std::string& path, Errors& e, MessageEntity& out) {
  Fields f(v, path, e);
  f.string("type", out.type, true);
  f.integer("offset", out.offset);
  f.integer("length", out.length);
}

void decode(const json::value& v, const std::string& path, Errors& e, PhotoSize& out) {
  Fields f(v, path, e);
  f.string("file_id", out.file_id, true);
  f.string("file_unique_id", out.file_unique_id, true);
  f.integer("width", out.width);
  f.integer("height", out.height);
  f.integer("file_size", out.file_size, false);
}

void decode(const json::value& v, const std::string& path, Errors& e, Document& out) {
  Fields f(v, path, e);
  f.string("file_id", out.file_id, true);
  f.string("file_unique_id", out.file_unique_id, true);
  f.string("file_name", out.file_name);
  f.string("mime_type", out.mime_type);
}

void decode(const json::value& v, const std::string& path, Errors& e, SuccessfulPayment& out) {
  Fields f(v, path, e);
  f.string("currency", out.currency, true);
  f.integer("total_amount", out.total_amount);
  f.string("invoice_payload", out.invoice_payload, true);
  f.integer("subscription_expiration_date", out.subscription_expiration_date);
  f.boolean("is_recurring", out.is_recurring);
  f.boolean("is_first_recurring", out.is_first_recurring);
  f.string("telegram_payment_charge_id", out.telegram_payment_charge_id, true);
  f.string("provider_payment_charge_id", out.provider_payment_charge_id, true);
}

void decode(const json::value& v, const std::string& path, Errors& e, RefundedPayment& out) {
  Fields f(v, path, e);
  f.string("currency", out.currency, true);
  f.integer("total_amount", out.total_amount);
  f.string("invoice_payload", out.invoice_payload, true);
  f.string("telegram_payment_charge_id", out.telegram_payment_charge_id, true);
  f.string("provider_payment_charge_id", out.provider_payment_charge_id);
}

constexpr const char* kOtherContent[] = {"sticker",   "voice",    "video",   "video_note", "audio",
                                         "animation", "location", "contact", "poll",       "dice"};

void decode(const json::value& v, const std::string& path, Errors& e, Message& out) {
  Fields f(v, path, e);
  f.integer("message_id", out.message_id);
  f.object("chat", out.chat, [](auto&&... a) { decode(a...); });
  f.integer("date", out.date);
  if (!f.valid() || out.date == 0) return;  // InaccessibleMessage: chat, message_id, date 0
  f.optional("from", out.from, [](auto&&... a) { decode(a...); });
  f.string("text", out.text);
  f.string("caption", out.caption);
  f.array("entities", out.entities, [](auto&&... a) { decode(a...); });
  if (f.has("reply_to_message")) {
    Message reply;
    f.object("reply_to_message", reply, [](auto&&... a) { decode(a...); });
    out.reply_to_message = std::make_shared<const Message>(std::move(reply));
  }
  f.array("photo", out.photo, [](auto&&... a) { decode(a...); });
  f.optional("document", out.document, [](auto&&... a) { decode(a...); });
  for (const char* kind : kOtherContent) {
    if (f.has(kind)) {
      out.other_content = kind;
      break;
    }
  }
  f.optional("successful_payment", out.successful_payment, [](auto&&... a) { decode(a...); });
  f.optional("refunded_payment", out.refunded_payment, [](auto&&... a) { decode(a...); });
  f.integer("migrate_to_chat_id", out.migrate_to_chat_id);
}

void decode(const json::value& v, const std::string& path, Errors& e, CallbackQuery& out) {
  Fields f(v, path, e);
  f.string("id", out.id, true);
  f.object("from", out.from, [](auto&&... a) { decode(a...); });
  f.optional("message", out.message, [](auto&&... a) { decode(a...); });
  f.string("data", out.data);
}

void decode(const json::value& v, const std::string& path, Errors& e, PreCheckoutQuery& out) {
  Fields f(v, path, e);
  f.string("id", out.id, true);
  f.object("from", out.from, [](auto&&... a) { decode(a...); });
  f.string("currency", out.currency, true);
  f.integer("total_amount", out.total_amount);
  f.string("invoice_payload", out.invoice_payload, true);
}

void decode_status(const json::value& v, const std::string& path, Errors& e, std::string& out) {
  Fields f(v, path, e);
  f.string("status", out, true);
}

void decode(const json::value& v, const std::string& path, Errors& e, ChatMember& out) {
  Fields f(v, path, e);
  f.string("status", out.status, true);
  f.object("user", out.user, [](auto&&... a) { decode(a...); });
}

void decode(const json::value& v, const std::string& path, Errors& e, ChatMemberUpdated& out) {
  Fields f(v, path, e);
  f.object("chat", out.chat, [](auto&&... a) { decode(a...); });
  f.object("from", out.from, [](auto&&... a) { decode(a...); });
  f.integer("date", out.date);
  f.object("old_chat_member", out.old_status, decode_status);
  f.object("new_chat_member", out.new_status, decode_status);
}

void decode(const json::value& v, const std::string& path, Errors& e, InlineQuery& out) {
  Fields f(v, path, e);
  f.string("id", out.id, true);
  f.object("from", out.from, [](auto&&... a) { decode(a...); });
  f.string("query", out.query, true);
  f.string("offset", out.offset);  // required by the spec; an empty one means the first page anyway
  f.string("chat_type", out.chat_type);
}

void decode(const json::value& v, const std::string& path, Errors& e, ChosenInlineResult& out) {
  Fields f(v, path, e);
  f.string("result_id", out.result_id, true);
  f.object("from", out.from, [](auto&&... a) { decode(a...); });
  f.string("inline_message_id", out.inline_message_id);
  f.string("query", out.query, true);
}

void decode(const json::value& v, const std::string& path, Errors& e, SubscriptionUpdate& out) {
  Fields f(v, path, e);
  f.object("user", out.user, [](auto&&... a) { decode(a...); });
  f.string("invoice_payload", out.invoice_payload, true);
  f.string("state", out.state, true);
}

void decode(const json::value& v, const std::string& path, Errors& e, Update& out) {
  Fields f(v, path, e);
  f.integer("update_id", out.update_id);
  f.optional("message", out.message, [](auto&&... a) { decode(a...); });
  f.optional("edited_message", out.edited_message, [](auto&&... a) { decode(a...); });
  f.optional("callback_query", out.callback_query, [](auto&&... a) { decode(a...); });
  f.optional("pre_checkout_query", out.pre_checkout_query, [](auto&&... a) { decode(a...); });
  f.optional("my_chat_member", out.my_chat_member, [](auto&&... a) { decode(a...); });
  f.optional("inline_query", out.inline_query, [](auto&&... a) { decode(a...); });
  f.optional("chosen_inline_result", out.chosen_inline_result, [](auto&&... a) { decode(a...); });
  f.optional("subscription", out.subscription, [](auto&&... a) { decode(a...); });
}

template <class T>
Decoded<T> run(const json::value& v, const std::string& path) {
  Decoded<T> d;
  T value;
  decode(v, path, d.errors, value);
  if (d.errors.empty()) d.value = std::move(value);
  return d;
}

json::object reply_parameters(std::int64_t message_id) {
  // Replying to a message the user has deleted meanwhile still sends the answer.
  return json::object{{"message_id", message_id}, {"allow_sending_without_reply", true}};
}

}  // namespace

Decoded<Update> decode_update(const json::value& v, const std::string& path) {
  auto d = run<Update>(v, path);
  if (d.value) d.value->raw_json = json::serialize(v);
  return d;
}
Decoded<Message> decode_message(const json::value& v, const std::string& path) { return run<Message>(v, path); }
Decoded<User> decode_user(const json::value& v, const std::string& path) { return run<User>(v, path); }
Decoded<ChatMember> decode_chat_member(const json::value& v, const std::string& path) {
  return run<ChatMember>(v, path);
}
Decoded<CallbackQuery> decode_callback_query(const json::value& v, const std::string& path) {
  return run<CallbackQuery>(v, path);
}

Decoded<DecodedUpdates> decode_updates(const json::value& v, const std::string& path) {
  Decoded<DecodedUpdates> d;
  if (!v.is_array()) {
    d.errors.push_back(path + ": expected array");
    return d;
  }
  DecodedUpdates out;
  const auto& a = v.as_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto item_path = path + "[" + std::to_string(i) + "]";
    auto u = decode_update(a[i], item_path);
    if (u.ok()) {
      out.updates.push_back(std::move(*u.value));
      continue;
    }
    Errors id_errors;
    Update bare;
    Fields f(a[i], item_path, id_errors);
    f.integer("update_id", bare.update_id);
    if (!id_errors.empty()) {
      d.errors.insert(d.errors.end(), id_errors.begin(), id_errors.end());
      continue;
    }
    bare.raw_json = json::serialize(a[i]);
    out.updates.push_back(std::move(bare));
    out.skipped.insert(out.skipped.end(), u.errors.begin(), u.errors.end());
  }
  if (d.errors.empty()) d.value = std::move(out);
  return d;
}

json::value to_json(const InlineKeyboardMarkup& markup) {
  json::array rows;
  for (const auto& row : markup.inline_keyboard) {
    json::array buttons;
    for (const auto& b : row) {
      json::object o{{"text", b.text}};
      if (!b.callback_data.empty()) o["callback_data"] = b.callback_data;
      if (!b.url.empty()) o["url"] = b.url;
      if (b.pay) o["pay"] = true;
      buttons.push_back(std::move(o));
    }
    rows.push_back(std::move(buttons));
  }
  return json::object{{"inline_keyboard", std::move(rows)}};
}

namespace {

void put_string(json::object& o, const char* key, const std::string& v) {
  if (!v.empty()) o[key] = v;
}

void put_markup(json::object& o, const InlineKeyboardMarkup& m) {
  if (!m.empty()) o["reply_markup"] = to_json(m);
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::array prices(const std::vector<LabeledPrice>& v) {
  json::array a;
  for (const auto& p : v) a.push_back(json::object{{"label", p.label}, {"amount", p.amount}});
  return a;
}

}  // namespace

json::object to_json(const GetUpdates& o) {
  json::object j{{"limit", o.limit}, {"timeout", o.timeout}};
  if (o.offset) j["offset"] = *o.offset;
  if (!o.allowed_updates.empty()) j["allowed_updates"] = strings(o.allowed_updates);
  return j;
}

json::object to_json(const SetWebhook& o) {
  json::object j{{"url", o.url}, {"max_connections", o.max_connections}};
  put_string(j, "secret_token", o.secret_token);
  if (!o.allowed_updates.empty()) j["allowed_updates"] = strings(o.allowed_updates);
  if (o.drop_pending_updates) j["drop_pending_updates"] = true;
  return j;
}

json::object to_json(const DeleteWebhook& o) {
  json::object j;
  if (o.drop_pending_updates) j["drop_pending_updates"] = true;
  return j;
}

json::object to_json(const SendMessage& o) {
  json::object j{{"chat_id", o.chat_id}, {"text", o.text}};
  put_string(j, "parse_mode", o.parse_mode);
  put_markup(j, o.reply_markup);
  if (o.reply_to_message_id) j["reply_parameters"] = reply_parameters(*o.reply_to_message_id);
  if (o.disable_link_preview) j["link_preview_options"] = json::object{{"is_disabled", true}};
  if (o.disable_notification) j["disable_notification"] = true;
  return j;
}

json::object to_json(const EditMessageText& o) {
  json::object j{{"chat_id", o.chat_id}, {"message_id", o.message_id}, {"text", o.text}};
  put_string(j, "parse_mode", o.parse_mode);
  put_markup(j, o.reply_markup);
  return j;
}

json::object to_json(const EditMessageReplyMarkup& o) {
  json::object j{{"chat_id", o.chat_id}, {"message_id", o.message_id}};
  put_markup(j, o.reply_markup);
  return j;
}

json::object to_json(const DeleteMessage& o) {
  return json::object{{"chat_id", o.chat_id}, {"message_id", o.message_id}};
}

namespace {

template <class Send>
json::object file_message(const Send& o, const char* field, const InputFile& file) {
  json::object j{{"chat_id", o.chat_id}};
  if (!file.is_upload()) j[field] = file.file_id;
  put_string(j, "caption", o.caption);
  put_string(j, "parse_mode", o.parse_mode);
  put_markup(j, o.reply_markup);
  if (o.reply_to_message_id) j["reply_parameters"] = reply_parameters(*o.reply_to_message_id);
  return j;
}

}  // namespace

json::object to_json(const SendPhoto& o) { return file_message(o, "photo", o.photo); }
json::object to_json(const SendDocument& o) { return file_message(o, "document", o.document); }

json::object to_json(const SendChatAction& o) { return json::object{{"chat_id", o.chat_id}, {"action", o.action}}; }
json::object to_json(const GetChatMember& o) { return json::object{{"chat_id", o.chat_id}, {"user_id", o.user_id}}; }

json::object to_json(const AnswerCallbackQuery& o) {
  json::object j{{"callback_query_id", o.callback_query_id}};
  put_string(j, "text", o.text);
  if (o.show_alert) j["show_alert"] = true;
  return j;
}

namespace {

json::object to_json(const InlineQueryResult& r) {
  json::object j{{"id", r.id}};
  if (r.kind == InlineQueryResult::Kind::cached_photo) {
    j["type"] = "photo";
    j["photo_file_id"] = r.photo_file_id;
    put_string(j, "title", r.title);
    put_string(j, "caption", r.caption);
  } else {
    j["type"] = "article";
    j["title"] = r.title;
    j["input_message_content"] = json::object{{"message_text", r.message_text}};
  }
  put_string(j, "description", r.description);
  put_markup(j, r.reply_markup);
  return j;
}

}  // namespace

json::object to_json(const AnswerInlineQuery& o) {
  json::array results;
  for (const auto& r : o.results) results.push_back(to_json(r));
  json::object j{{"inline_query_id", o.inline_query_id}, {"results", std::move(results)}, {"cache_time", o.cache_time}};
  if (o.is_personal) j["is_personal"] = true;
  if (o.button) j["button"] = json::object{{"text", o.button->text}, {"start_parameter", o.button->start_parameter}};
  return j;
}

json::object to_json(const EditInlineMessageText& o) {
  json::object j{{"inline_message_id", o.inline_message_id}, {"text", o.text}};
  put_markup(j, o.reply_markup);
  return j;
}

json::object to_json(const EditInlineMessageMedia& o) {
  json::object media{{"type", "photo"}, {"media", o.photo_file_id}};
  put_string(media, "caption", o.caption);
  json::object j{{"inline_message_id", o.inline_message_id}, {"media", std::move(media)}};
  put_markup(j, o.reply_markup);
  return j;
}

json::object to_json(const SetMyCommands& o) {
  json::array commands;
  for (const auto& c : o.commands)
    commands.push_back(json::object{{"command", c.command}, {"description", c.description}});
  json::object j{{"commands", std::move(commands)}};
  if (o.scope_chat_id) j["scope"] = json::object{{"type", "chat"}, {"chat_id", *o.scope_chat_id}};
  put_string(j, "language_code", o.language_code);
  return j;
}

json::object to_json(const SendInvoice& o) {
  json::object j{{"chat_id", o.chat_id}, {"title", o.title},       {"description", o.description},
                 {"payload", o.payload}, {"currency", o.currency}, {"prices", prices(o.prices)}};
  put_markup(j, o.reply_markup);
  return j;
}

json::object to_json(const CreateInvoiceLink& o) {
  json::object j{{"title", o.title},
                 {"description", o.description},
                 {"payload", o.payload},
                 {"currency", o.currency},
                 {"prices", prices(o.prices)}};
  if (o.subscription_period) j["subscription_period"] = *o.subscription_period;
  return j;
}

json::object to_json(const AnswerPreCheckoutQuery& o) {
  json::object j{{"pre_checkout_query_id", o.pre_checkout_query_id}, {"ok", o.ok}};
  if (!o.ok) put_string(j, "error_message", o.error_message);
  return j;
}

json::object to_json(const RefundStarPayment& o) {
  return json::object{{"user_id", o.user_id}, {"telegram_payment_charge_id", o.telegram_payment_charge_id}};
}

json::object to_json(const EditUserStarSubscription& o) {
  return json::object{{"user_id", o.user_id},
                      {"telegram_payment_charge_id", o.telegram_payment_charge_id},
                      {"is_canceled", o.is_canceled}};
}

const char* to_string(ApiError::Kind kind) {
  switch (kind) {
    case ApiError::Kind::rate_limited: return "rate_limited";
    case ApiError::Kind::blocked: return "blocked";
    case ApiError::Kind::not_modified: return "not_modified";
    case ApiError::Kind::conflict: return "conflict";
    case ApiError::Kind::no_rights: return "no_rights";
    case ApiError::Kind::bad_request: return "bad_request";
    case ApiError::Kind::unauthorized: return "unauthorized";
    case ApiError::Kind::not_found: return "not_found";
    case ApiError::Kind::server: return "server";
    case ApiError::Kind::network: return "network";
    case ApiError::Kind::invalid_response: return "invalid_response";
  }
  return "unknown";
}

}  // namespace igb::telegram
