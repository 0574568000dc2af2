// The fake Bot API's methods: what each call does to the fake's state (chats, messages, files,
// payments, updates), with Telegram's rules for text, markup, replies and rate limits.
#include "support/fake_bot_api_internal.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace igb::testing {

namespace fake_tg {

std::size_t utf16_length(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

std::string visible_text(const std::string& text, const std::string& parse_mode) {
  if (lower(parse_mode) != "html") return text;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') {
      auto end = text.find('>', i);
      if (end == std::string::npos) break;
      i = end;
    } else if (text[i] == '&') {
      auto end = text.find(';', i);
      out += end == std::string::npos ? "&" : "x";
      if (end != std::string::npos) i = end;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; });
}

std::optional<std::pair<int, int>> png_size(const std::string& bytes) {
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return std::nullopt;
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(bytes[at]) << 24) | (static_cast<unsigned char>(bytes[at + 1]) << 16) |
           (static_cast<unsigned char>(bytes[at + 2]) << 8) | static_cast<unsigned char>(bytes[at + 3]);
  };
  return std::pair<int, int>(be32(16), be32(20));
}

std::string str(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

std::optional<std::int64_t> int_of(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  return std::nullopt;
}

bool bool_of(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().as_bool();
}

Answer bad_gateway() { return Answer{.status = 502, .description = "Bad Gateway", .front_page = true}; }

Answer ok(json::value result) { return Answer{.result = std::move(result)}; }
Answer fail(int status, std::string description, std::optional<int> retry_after) {
  return Answer{.status = status, .description = std::move(description), .retry_after = retry_after};
}

std::string envelope(const Answer& a) {
  json::object o;
  if (a.status == 200) {
    o["ok"] = true;
    o["result"] = a.result;
  } else {
    o["ok"] = false;
    o["error_code"] = a.status;
    o["description"] = a.description;
    json::object parameters;
    if (a.retry_after) parameters["retry_after"] = *a.retry_after;
    if (a.migrate_to_chat_id) parameters["migrate_to_chat_id"] = *a.migrate_to_chat_id;
    if (!parameters.empty()) o["parameters"] = std::move(parameters);
  }
  return json::serialize(o);
}

std::string update_type(const json::object& u) {
  for (const auto& kv : u)
    if (kv.key() != "update_id") return std::string(kv.key());
  return {};
}

}  // namespace fake_tg

void FakeBotApi::Impl::wake_pollers() {
  net::post(io, [this] {
    std::lock_guard lock(mutex);
    for (auto* p : pollers) p->timer->cancel();
  });
}

// ---- JSON of users, chats, messages

json::object FakeBotApi::Impl::user_json(const FakeTgUser& u) {
  json::object o{{"id", u.id}, {"is_bot", u.is_bot}, {"first_name", u.first_name}};
  if (!u.last_name.empty()) o["last_name"] = u.last_name;
  if (!u.username.empty()) o["username"] = u.username;
  if (!u.language_code.empty()) o["language_code"] = u.language_code;
  return o;
}

json::object FakeBotApi::Impl::chat_json(const ChatState& c) const {
  if (c.chat.type == "private") {
    json::object o{{"id", c.chat.id}, {"type", "private"}, {"first_name", c.user.first_name}};
    if (!c.user.last_name.empty()) o["last_name"] = c.user.last_name;
    if (!c.user.username.empty()) o["username"] = c.user.username;
    return o;
  }
  return json::object{{"id", c.chat.id}, {"type", c.chat.type}, {"title", c.chat.title}};
}

FakeBotApi::Impl::ChatState& FakeBotApi::Impl::chat_of(const FakeTgUser& from, const std::optional<FakeTgChat>& chat) {
  if (chat) {
    auto& c = chats[chat->id];
    c.chat = *chat;
    if (chat->type == "private") c.user = from;
    if (chat->type != "private") c.members.try_emplace(from.id, from, "member");
    return c;
  }
  auto& c = chats[from.id];
  c.chat = FakeTgChat{.id = from.id, .type = "private", .title = ""};
  c.user = from;
  return c;
}

std::int64_t FakeBotApi::Impl::unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t FakeBotApi::Impl::enqueue(json::object update) {
  auto id = next_update_id++;
  update["update_id"] = id;
  pending.push_back(std::move(update));
  wake_pollers();
  notify();
  return id;
}

// ---- Rate limits

// 0 when the call may pass now, else the seconds to wait.
int FakeBotApi::Impl::rate_wait(ChatState* chat) {
  if (!limits) return 0;
  const auto arrived = now();
  const auto t = arrived + limits->jitter;
  double wait = 0;
  {
    int n = limits->global_per_second;
    while (!global_sent.empty() && global_sent.front() <= t - std::chrono::seconds(1)) global_sent.pop_front();
    if (n > 0 && static_cast<int>(global_sent.size()) >= n) {
      auto free_at = global_sent[global_sent.size() - n] + std::chrono::seconds(1);
      wait = std::max(wait, std::chrono::duration<double>(free_at - t).count());
    }
  }
  if (chat) {
    auto& sent = chat->sent;
    if (chat->chat.type == "private") {
      while (sent.size() > 256) sent.pop_front();
      // k-th most recent accepted message at t_k: k+1 messages in [t_k, t] need
      // t - t_k >= (k + 1 - burst) / rate.
      std::size_t k = 0;
      for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
        ++k;
        double need = (static_cast<double>(k + 1) - limits->private_burst) / limits->private_per_second;
        double have = std::chrono::duration<double>(t - *it).count();
        wait = std::max(wait, need - have);
      }
    } else {
      int n = limits->group_per_minute;
      while (!sent.empty() && sent.front() <= t - std::chrono::seconds(60)) sent.pop_front();
      if (n > 0 && static_cast<int>(sent.size()) >= n) {
        auto free_at = sent[sent.size() - n] + std::chrono::seconds(60);
        wait = std::max(wait, std::chrono::duration<double>(free_at - t).count());
      }
    }
  }
  if (wait <= 0) {
    global_sent.push_back(arrived);
    if (chat) chat->sent.push_back(arrived);
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil(wait)));
}

// ---- Methods. Called with the mutex held.

Answer FakeBotApi::Impl::check_markup(const json::object& p) {
  auto it = p.find("reply_markup");
  if (it == p.end() || !it->value().is_object()) return ok(nullptr);
  const auto& m = it->value().as_object();
  auto kb = m.find("inline_keyboard");
  if (kb == m.end() || !kb->value().is_array()) return ok(nullptr);
  for (const auto& row : kb->value().as_array()) {
    if (!row.is_array()) continue;
    for (const auto& b : row.as_array()) {
      if (!b.is_object()) continue;
      const auto& o = b.as_object();
      if (o.contains("callback_data")) {
        auto d = str(o, "callback_data");
        if (d.empty() || d.size() > 64) return fail(400, "Bad Request: BUTTON_DATA_INVALID");
      }
      int actions = 0;
      for (const auto& kv : o)
        if (kv.key() != "text" && kv.key() != "style" && kv.key() != "icon_custom_emoji_id") ++actions;
      if (actions == 0)
        return fail(
            400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
      if (actions > 1)
        return fail(400,
                    "Bad Request: can't parse inline keyboard button: exactly one of the optional fields must be used");
    }
  }
  return ok(nullptr);
}

json::value FakeBotApi::Impl::markup_of(const json::object& p) {
  auto it = p.find("reply_markup");
  if (it == p.end()) return nullptr;
  const auto& v = it->value();
  if (v.is_object() && v.as_object().contains("inline_keyboard") && v.at("inline_keyboard").is_array() &&
      v.at("inline_keyboard").as_array().empty())
    return nullptr;
  return v;
}

std::optional<Answer> FakeBotApi::Impl::check_text(const std::string& text, const std::string& parse_mode,
                                                   bool caption) {
  auto visible = visible_text(text, parse_mode);
  if (caption) {
    if (utf16_length(visible) > 1024) return fail(400, "Bad Request: message caption is too long");
    return std::nullopt;
  }
  if (blank(visible)) return fail(400, "Bad Request: message text is empty");
  if (utf16_length(visible) > 4096) return fail(400, "Bad Request: message is too long");
  return std::nullopt;
}

std::optional<std::int64_t> FakeBotApi::Impl::reply_to_of(const json::object& p) {
  if (auto it = p.find("reply_parameters"); it != p.end() && it->value().is_object())
    return int_of(it->value().as_object(), "message_id");
  return int_of(p, "reply_to_message_id");
}

FakeTgMessage& FakeBotApi::Impl::new_bot_message(ChatState& c, json::object& mj, const std::string& kind) {
  auto id = c.next_message_id++;
  FakeTgMessage m{
      .chat_id = c.chat.id, .message_id = id, .from_bot = true, .from_user_id = options.bot.id, .kind = kind};
  mj["message_id"] = id;
  mj["from"] = user_json(options.bot);
  mj["chat"] = chat_json(c);
  mj["date"] = unix_now();
  c.messages[id] = m;
  return c.messages[id];
}

std::string FakeBotApi::Impl::reply_suffix(const json::object& p) {
  auto r = reply_to_of(p);
  return r ? " (reply to #" + std::to_string(*r) + ")" : "";
}

std::optional<Answer> FakeBotApi::Impl::check_reply(ChatState& c, const json::object& p, json::object& mj) {
  auto r = reply_to_of(p);
  if (!r) return std::nullopt;
  auto it = c.message_json.find(*r);
  if (it == c.message_json.end() || c.messages[*r].deleted) {
    bool allow = false;
    if (auto rp = p.find("reply_parameters"); rp != p.end() && rp->value().is_object())
      allow = bool_of(rp->value().as_object(), "allow_sending_without_reply");
    if (!allow) return fail(400, "Bad Request: message to be replied not found");
    return std::nullopt;
  }
  mj["reply_to_message"] = it->second;
  return std::nullopt;
}

Answer FakeBotApi::Impl::send_message(ChatState& c, const json::object& p) {
  auto text = str(p, "text");
  auto pm = str(p, "parse_mode");
  if (auto e = check_text(text, pm, false)) return *e;
  json::object mj;
  if (auto e = check_reply(c, p, mj)) return *e;
  auto& m = new_bot_message(c, mj, "text");
  m.text = text;
  m.parse_mode = pm;
  m.reply_markup = markup_of(p);
  mj["text"] = visible_text(text, pm);
  if (!m.reply_markup.is_null()) mj["reply_markup"] = m.reply_markup;
  c.message_json[m.message_id] = mj;
  c.transcript.push_back("< sendMessage #" + std::to_string(m.message_id) + reply_suffix(p) + ": " + indent_text(text));
  keyboard_lines(m.reply_markup, c.transcript, false);
  return ok(mj);
}

Answer FakeBotApi::Impl::send_file(ChatState& c, const std::string& method, const std::string& field,
                                   const json::object& p, std::vector<FakeTgUpload>& uploads) {
  const std::string kind = field;  // "photo" or "document"
  auto caption = str(p, "caption");
  auto pm = str(p, "parse_mode");
  if (auto e = check_text(caption, pm, true)) return *e;
  json::object mj;
  if (auto e = check_reply(c, p, mj)) return *e;
  std::string file_id, how;
  const auto& v = p.at(field);
  if (v.is_object()) {
    auto up = std::find_if(uploads.begin(), uploads.end(),
                           [&](const FakeTgUpload& u) { return u.field == field || ("attach://" + u.field) == field; });
    if (up == uploads.end()) return fail(400, "Bad Request: there is no " + field + " in the request");
    file_id = kind + "-" + std::to_string(++file_counters[kind]);
    up->file_id = file_id;
    StoredFile f{.kind = kind, .bytes = up->bytes, .mime_type = up->content_type, .filename = up->filename};
    if (kind == "photo") {
      auto size = png_size(up->bytes).value_or(std::pair<int, int>(512, 512));
      int tw = std::min(size.first, 320);
      int th = size.first > 0 ? size.second * tw / size.first : size.second;
      f.object = json::array{json::object{{"file_id", file_id + "-s"},
                                          {"file_unique_id", "u" + file_id + "-s"},
                                          {"width", tw},
                                          {"height", th},
                                          {"file_size", static_cast<std::int64_t>(up->bytes.size() / 4)}},
                             json::object{{"file_id", file_id},
                                          {"file_unique_id", "u" + file_id},
                                          {"width", size.first},
                                          {"height", size.second},
                                          {"file_size", static_cast<std::int64_t>(up->bytes.size())}}};
    } else {
      json::object d{{"file_id", file_id},
                     {"file_unique_id", "u" + file_id},
                     {"file_size", static_cast<std::int64_t>(up->bytes.size())}};
      if (!up->filename.empty()) d["file_name"] = up->filename;
      if (!up->content_type.empty()) d["mime_type"] = up->content_type;
      f.object = d;
    }
    files[file_id] = f;
    if (kind == "photo") files[file_id + "-s"] = f;
    how = "upload " + up->content_type + " " + std::to_string(up->bytes.size()) + " bytes → " + file_id;
  } else {
    file_id = std::string(v.as_string());
    auto it = files.find(file_id);
    if (it == files.end()) return fail(400, "Bad Request: wrong file identifier/HTTP URL specified");
    if (it->second.kind != kind)
      return fail(400, "Bad Request: can't use file of type " +
                           std::string(it->second.kind == "photo" ? "Photo" : "Document") + " as " +
                           (kind == "photo" ? "Photo" : "Document"));
    how = file_id;
  }
  auto& m = new_bot_message(c, mj, kind);
  m.caption = caption;
  m.parse_mode = pm;
  m.file_id = file_id;
  m.reply_markup = markup_of(p);
  mj[kind] = files[file_id].object;
  if (!caption.empty()) mj["caption"] = visible_text(caption, pm);
  if (!m.reply_markup.is_null()) mj["reply_markup"] = m.reply_markup;
  c.message_json[m.message_id] = mj;
  c.transcript.push_back("< " + method + " #" + std::to_string(m.message_id) + reply_suffix(p) + " (" + how + ")" +
                         (caption.empty() ? "" : ": " + indent_text(caption)));
  keyboard_lines(m.reply_markup, c.transcript, false);
  return ok(mj);
}

Answer FakeBotApi::Impl::edit(ChatState& c, const std::string& method, const json::object& p) {
  auto id = int_of(p, "message_id");
  if (!id) return fail(400, "Bad Request: message identifier is not specified");
  auto it = c.messages.find(*id);
  if (it == c.messages.end() || it->second.deleted) return fail(400, "Bad Request: message to edit not found");
  auto& m = it->second;
  if (!m.from_bot) return fail(400, "Bad Request: message can't be edited");
  auto markup = markup_of(p);
  auto& mj = c.message_json[*id];
  if (method == "editMessageText") {
    if (m.kind != "text") return fail(400, "Bad Request: there is no text in the message to edit");
    auto text = str(p, "text");
    auto pm = str(p, "parse_mode");
    if (auto e = check_text(text, pm, false)) return *e;
    if (visible_text(text, pm) == visible_text(m.text, m.parse_mode) && markup == m.reply_markup)
      return fail(400,
                  "Bad Request: message is not modified: specified new message content and reply markup are exactly "
                  "the same as a current content and reply markup of the message");
    m.text = text;
    m.parse_mode = pm;
    mj["text"] = visible_text(text, pm);
    c.transcript.push_back("< editMessageText #" + std::to_string(*id) + ": " + indent_text(text));
    keyboard_lines(markup, c.transcript, false);
  } else if (method == "editMessageCaption") {
    auto caption = str(p, "caption");
    auto pm = str(p, "parse_mode");
    if (auto e = check_text(caption, pm, true)) return *e;
    if (caption == m.caption && markup == m.reply_markup)
      return fail(400,
                  "Bad Request: message is not modified: specified new message content and reply markup are exactly "
                  "the same as a current content and reply markup of the message");
    m.caption = caption;
    mj["caption"] = visible_text(caption, pm);
    c.transcript.push_back("< editMessageCaption #" + std::to_string(*id) + ": " + indent_text(caption));
    keyboard_lines(markup, c.transcript, false);
  } else {
    if (markup == m.reply_markup)
      return fail(400,
                  "Bad Request: message is not modified: specified new message content and reply markup are exactly "
                  "the same as a current content and reply markup of the message");
    c.transcript.push_back("< editMessageReplyMarkup #" + std::to_string(*id));
    keyboard_lines(markup, c.transcript, true);
  }
  m.reply_markup = markup;
  if (markup.is_null())
    mj.erase("reply_markup");
  else
    mj["reply_markup"] = markup;
  mj["edit_date"] = unix_now();
  ++m.edit_count;
  return ok(mj);
}

Answer FakeBotApi::Impl::dispatch(const std::string& method, Incoming& in, FakeTgCall& call) {
  auto& p = in.params;
  ChatState* chat = nullptr;
  if (auto id = int_of(p, "chat_id")) {
    call.chat_id = id;
  } else if (method == "answerCallbackQuery") {
    if (auto it = callback_chat.find(str(p, "callback_query_id")); it != callback_chat.end()) call.chat_id = it->second;
  } else if (method == "answerPreCheckoutQuery") {
    if (auto it = pre_checkout_chat.find(str(p, "pre_checkout_query_id")); it != pre_checkout_chat.end())
      call.chat_id = it->second;
  } else if (method == "refundStarPayment" || method == "editUserStarSubscription") {
    call.chat_id = int_of(p, "user_id");
  }
  for (auto it = failures.begin(); it != failures.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    auto f = fail(it->code, it->description, it->retry_after);
    if (--it->times <= 0) failures.erase(it);
    return f;
  }
  if (p.contains("chat_id")) {
    if (!call.chat_id) return fail(400, "Bad Request: chat not found");
    if (auto m = migrated.find(*call.chat_id); m != migrated.end()) {
      auto a = fail(400, "Bad Request: group chat was upgraded to a supergroup chat", std::nullopt);
      a.migrate_to_chat_id = m->second;
      return a;
    }
    auto it = chats.find(*call.chat_id);
    if (it == chats.end()) return fail(400, "Bad Request: chat not found");
    chat = &it->second;
    if (blocked.contains(*call.chat_id))
      return fail(403, chat->chat.type == "private"
                           ? "Forbidden: bot was blocked by the user"
                           : "Forbidden: bot was kicked from the " +
                                 std::string(chat->chat.type == "supergroup" ? "supergroup" : "group") + " chat");
  }
  if (auto a = check_markup(p); a.status != 200) return a;
  if (limits && chat &&
      std::find(limits->limited_methods.begin(), limits->limited_methods.end(), method) !=
          limits->limited_methods.end()) {
    if (int wait = rate_wait(chat)) {
      ++rate_limited;
      return fail(429, "Too Many Requests: retry after " + std::to_string(wait), wait);
    }
  }

  if (method == "getMe") return ok(user_json(options.bot));
  if (method == "sendMessage") return send_message(*chat, p);
  if (method == "sendPhoto") return send_file(*chat, method, "photo", p, in.uploads);
  if (method == "sendDocument") return send_file(*chat, method, "document", p, in.uploads);
  if (p.contains("inline_message_id") && (method == "editMessageText" || method == "editMessageMedia" ||
                                          method == "editMessageReplyMarkup" || method == "editMessageCaption"))
    return edit_inline(method, p, in.uploads);
  if (method == "answerInlineQuery") return answer_inline_query(p);
  if (method == "editMessageText" || method == "editMessageReplyMarkup" || method == "editMessageCaption") {
    if (!chat) return fail(400, "Bad Request: chat not found");
    return edit(*chat, method, p);
  }
  if (method == "deleteMessage") {
    auto it = chat->messages.find(int_of(p, "message_id").value_or(0));
    if (it == chat->messages.end() || it->second.deleted) return fail(400, "Bad Request: message to delete not found");
    it->second.deleted = true;
    chat->transcript.push_back("< deleteMessage #" + std::to_string(it->first));
    return ok(true);
  }
  if (method == "sendChatAction") {
    static const std::set<std::string> kActions = {
        "typing",          "upload_photo",   "record_video",  "upload_video",      "record_voice",     "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"};
    auto action = str(p, "action");
    if (!kActions.contains(action)) return fail(400, "Bad Request: wrong parameter action in request");
    chat->transcript.push_back("< sendChatAction " + action);
    return ok(true);
  }
  if (method == "getChatMember") {
    // The answer is one of the spec's ChatMember subtypes (botapi.json: ChatMemberOwner "creator",
    // ChatMemberAdministrator "administrator", ChatMemberMember "member", ChatMemberLeft "left", …)
    // with each subtype's required fields. A user the fake has not seen in the chat is "left" (an
    // assumption: Telegram answers so for a real user who is not in the chat).
    auto user_id = int_of(p, "user_id").value_or(0);
    auto it = chat->members.find(user_id);
    FakeTgUser user = it != chat->members.end() ? it->second.first : FakeTgUser{.id = user_id};
    std::string status = it != chat->members.end() ? it->second.second : "left";
    if (chat->chat.type == "private") status = user_id == chat->chat.id ? "member" : "left";
    json::object member{{"status", status}, {"user", user_json(user)}};
    if (status == "creator") member["is_anonymous"] = false;
    if (status == "administrator") {
      for (const char* right :
           {"can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
            "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
            "can_edit_stories", "can_delete_stories"}) {
        member[right] = std::string_view(right) == "can_manage_chat";
      }
    }
    if (status == "kicked") member["until_date"] = 0;
    if (status == "restricted") return fail(400, "Bad Request: the fake does not model restricted members");
    chat->transcript.push_back("< getChatMember " + user.first_name + ": " + status);
    return ok(member);
  }
  if (method == "answerCallbackQuery") {
    auto id = str(p, "callback_query_id");
    auto it = callback_chat.find(id);
    if (it == callback_chat.end() || answered.contains(id))
      return fail(400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
    auto text = str(p, "text");
    chats[it->second].transcript.push_back("< answerCallbackQuery" + (text.empty() ? "" : ": " + text) +
                                           (bool_of(p, "show_alert") ? " (alert)" : ""));
    answered.insert(id);
    return ok(true);
  }
  if (method == "answerPreCheckoutQuery") {
    auto it = pre_checkout_chat.find(str(p, "pre_checkout_query_id"));
    if (it == pre_checkout_chat.end() || answered.contains(it->first))
      return fail(400, "Bad Request: QUERY_ID_INVALID");
    bool yes = bool_of(p, "ok");
    if (!yes && str(p, "error_message").empty()) return fail(400, "Bad Request: ERROR_MESSAGE_EMPTY");
    chats[it->second].transcript.push_back(yes ? "< answerPreCheckoutQuery ok"
                                               : "< answerPreCheckoutQuery error: " + str(p, "error_message"));
    answered.insert(it->first);
    return ok(true);
  }
  if (method == "sendInvoice") {
    std::int64_t total = 0;
    if (auto it = p.find("prices"); it != p.end() && it->value().is_array())
      for (const auto& price : it->value().as_array())
        if (price.is_object()) total += int_of(price.as_object(), "amount").value_or(0);
    auto currency = str(p, "currency");
    if (currency == "XTR" && p.at("prices").as_array().size() != 1)
      return fail(400, "Bad Request: STARS_INVOICE_INVALID");
    json::object mj;
    auto& m = new_bot_message(*chat, mj, "invoice");
    m.text = str(p, "title");
    m.reply_markup = markup_of(p);
    mj["invoice"] = json::object{{"title", str(p, "title")},
                                 {"description", str(p, "description")},
                                 {"start_parameter", str(p, "start_parameter")},
                                 {"currency", currency},
                                 {"total_amount", total}};
    if (!m.reply_markup.is_null()) mj["reply_markup"] = m.reply_markup;
    chat->message_json[m.message_id] = mj;
    chat->transcript.push_back("< sendInvoice #" + std::to_string(m.message_id) + ": " + str(p, "title") + " — " +
                               std::to_string(total) + " " + currency + " " + str(p, "payload"));
    keyboard_lines(m.reply_markup, chat->transcript, false);
    return ok(mj);
  }
  if (method == "createInvoiceLink")
    return ok(json::value("https://t.me/$fake-invoice-" + std::to_string(next_invoice_link++)));
  if (method == "refundStarPayment" || method == "editUserStarSubscription") {
    auto charge_id = str(p, "telegram_payment_charge_id");
    auto it = charges.find(charge_id);
    if (it == charges.end() || it->second.user_id != int_of(p, "user_id").value_or(0))
      return fail(400, "Bad Request: CHARGE_NOT_FOUND");
    auto& c = chats[it->second.user_id];
    if (method == "refundStarPayment") {
      if (it->second.refunded) return fail(400, "Bad Request: CHARGE_ALREADY_REFUNDED");
      it->second.refunded = true;
      refunded.push_back(charge_id);
      c.transcript.push_back("< refundStarPayment " + charge_id);
    } else {
      c.transcript.push_back("< editUserStarSubscription " + charge_id +
                             (bool_of(p, "is_canceled") ? " canceled" : " renewed"));
    }
    return ok(true);
  }
  // Menus are kept per scope and language: "<lang>" for the default scope, "chat <id> <lang>" for a
  // BotCommandScopeChat (other scopes are kept under their type).
  auto commands_key = [&] {
    auto lang = str(p, "language_code");
    auto it = p.find("scope");
    if (it == p.end() || !it->value().is_object()) return lang;
    const auto& scope = it->value().as_object();
    auto type = str(scope, "type");
    if (type == "default") return lang;
    if (type == "chat") return "chat " + std::to_string(int_of(scope, "chat_id").value_or(0)) + " " + lang;
    return type + " " + lang;
  };
  if (method == "setMyCommands") {
    commands[commands_key()] =
        p.contains("commands") && p.at("commands").is_array() ? p.at("commands").as_array() : json::array{};
    return ok(true);
  }
  if (method == "deleteMyCommands") {
    commands.erase(commands_key());
    return ok(true);
  }
  if (method == "getMyCommands") {
    auto it = commands.find(commands_key());
    return ok(it == commands.end() ? json::array{} : it->second);
  }
  if (method == "setWebhook") {
    webhook_url = str(p, "url");
    webhook_secret = str(p, "secret_token");
    if (auto it = p.find("allowed_updates"); it != p.end() && it->value().is_array())
      set_allowed(it->value().as_array());
    if (bool_of(p, "drop_pending_updates")) pending.clear();
    wake_pollers();
    return ok(true);
  }
  if (method == "deleteWebhook") {
    webhook_url.clear();
    webhook_secret.clear();
    if (bool_of(p, "drop_pending_updates")) pending.clear();
    return ok(true);
  }
  if (method == "getWebhookInfo") {
    json::object info{{"url", webhook_url},
                      {"has_custom_certificate", false},
                      {"pending_update_count", static_cast<std::int64_t>(pending.size())}};
    return ok(info);
  }
  if (method == "getFile") {
    auto id = str(p, "file_id");
    auto it = files.find(id);
    if (it == files.end()) return fail(400, "Bad Request: invalid file_id");
    return ok(json::object{{"file_id", id},
                           {"file_unique_id", "u" + id},
                           {"file_size", static_cast<std::int64_t>(it->second.bytes.size())},
                           {"file_path", it->second.kind + "s/" + id}});
  }
  return ok(true);  // valid per the spec, no behaviour modelled
}

void FakeBotApi::Impl::set_allowed(const json::array& a) {
  allowed.clear();
  for (const auto& v : a)
    if (v.is_string()) allowed.emplace_back(v.as_string());
  allowed_set = true;
}

bool FakeBotApi::Impl::is_allowed(const json::object& update) const {
  auto type = update_type(update);
  if (allowed.empty()) return !kDefaultExcludedUpdates.contains(type);
  return std::find(allowed.begin(), allowed.end(), type) != allowed.end();
}

// Drops updates below offset and returns up to limit allowed ones (those not allowed are dropped
// as Telegram does).
json::array FakeBotApi::Impl::take_updates(std::optional<std::int64_t> offset, std::int64_t limit) {
  if (offset) {
    while (!pending.empty() && pending.front().at("update_id").as_int64() < *offset) pending.pop_front();
  }
  json::array out;
  for (auto it = pending.begin(); it != pending.end() && static_cast<std::int64_t>(out.size()) < limit;) {
    if (!is_allowed(*it)) {
      it = pending.erase(it);
      continue;
    }
    out.push_back(*it);
    ++it;
  }
  return out;
}

void FakeBotApi::Impl::record(FakeTgCall call, const Answer& a) {
  call.status = a.status;
  if (a.status == 200) {
    call.result = a.result;
  } else {
    call.description = a.description;
    if (auto user = inline_user_of(call.params))
      inline_transcripts[*user].push_back("! " + std::to_string(a.status) + " " + call.method + ": " + a.description);
    if (call.chat_id)
      if (auto it = chats.find(*call.chat_id); it != chats.end())
        it->second.transcript.push_back("! " + std::to_string(a.status) + " " + call.method);
  }
  calls.push_back(std::move(call));
  notify();
}

}  // namespace igb::testing
