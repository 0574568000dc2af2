// The fake Bot API's inline mode: inline queries, their answers, the user choosing a result, and
// edits of the inline message that result posted. Telegram's rules, from the Bot API documentation
// (/work/shared/telegram/botapi.json, Bot API 10.1) and the clients that follow it:
//   - answerInlineQuery: at most 50 results; result ids 1-64 bytes and unique; a cached photo needs a
//     file_id Telegram knows; an article's message text 1-4096 characters; the button's
//     start_parameter 1-64 of A-Z a-z 0-9 _ -. A query is answered once, and only for a short while
//     after it was sent: a second answer, or a late one, is 400 "query is too old and response timeout
//     expired or query ID is invalid" (the text clients match: python-telegram-bot/python-telegram-bot,
//     telegram/error.py, BadRequest; aiogram/aiogram, aiogram/exceptions.py, TelegramBadRequest).
//     Telegram documents no window for inline queries; about 10 s is what bots observe, so the fake
//     takes 10 s.
//   - ChosenInlineResult.inline_message_id: "Available only if there is an inline keyboard attached to
//     the message" (the spec's field description).
//   - editMessageMedia: "When an inline message is edited, a new file can't be uploaded; use a
//     previously uploaded file via its file_id or specify a URL" (the method's description; the same
//     sentence in python-telegram-bot's telegram/_bot.py edit_message_media and aiogram's
//     aiogram/methods/edit_message_media.py). An upload here is a 400 (the wording is the fake's own).
//     Edits of inline messages answer True, not the Message.
#include "support/fake_bot_api_internal.hpp"

#include <stdexcept>

namespace igb::testing {

namespace {

constexpr auto kInlineAnswerWindow = std::chrono::seconds(10);
constexpr const char* kTooOld = "Bad Request: query is too old and response timeout expired or query ID is invalid";
constexpr const char* kNotModified =
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as "
    "a current content and reply markup of the message";

bool start_parameter_ok(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

std::int64_t FakeBotApi::push_inline_query(FakeTgPushInlineQuery in) {
  std::lock_guard lock(impl_->mutex);
  auto id = "iq-" + std::to_string(impl_->next_inline_query++);
  impl_->inline_queries[id] = Impl::InlineQueryState{.from = in.from, .query = in.query, .pushed = impl_->now()};
  impl_->inline_transcripts[in.from.id].push_back("> " + in.from.first_name + " inline \"" + in.query + "\" (" + id +
                                                  ")");
  json::object q{{"id", id}, {"from", Impl::user_json(in.from)}, {"query", in.query}, {"offset", ""}};
  if (!in.chat_type.empty()) q["chat_type"] = in.chat_type;
  return impl_->enqueue(json::object{{"inline_query", q}});
}

std::string FakeBotApi::choose_inline_result(const std::string& query_id, const std::string& result_id) {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->inline_queries.find(query_id);
  if (it == impl_->inline_queries.end() || !it->second.answered)
    throw std::logic_error("FakeBotApi: inline query " + query_id + " was not answered");
  const json::object* result = nullptr;
  for (const auto& r : it->second.results)
    if (r.is_object() && str(r.as_object(), "id") == result_id) result = &r.as_object();
  if (!result) throw std::logic_error("FakeBotApi: the answer to " + query_id + " has no result " + result_id);
  const auto& from = it->second.from;
  auto markup = Impl::markup_of(*result);
  std::string inline_id;
  if (!markup.is_null()) {
    inline_id = "im-" + std::to_string(impl_->next_inline_message++);
    FakeTgInlineMessage m{.inline_message_id = inline_id, .user_id = from.id, .reply_markup = markup};
    if (str(*result, "type") == "photo") {
      m.kind = "photo";
      m.file_id = str(*result, "photo_file_id");
      m.caption = str(*result, "caption");
    } else {
      m.kind = "text";
      if (auto c = result->find("input_message_content"); c != result->end() && c->value().is_object())
        m.text = str(c->value().as_object(), "message_text");
    }
    impl_->inline_messages[inline_id] = m;
  }
  impl_->inline_transcripts[from.id].push_back("> " + from.first_name + " chose " + result_id + " of " + query_id +
                                               (inline_id.empty() ? "" : " → " + inline_id));
  json::object chosen{{"result_id", result_id}, {"from", Impl::user_json(from)}, {"query", it->second.query}};
  if (!inline_id.empty()) chosen["inline_message_id"] = inline_id;
  impl_->enqueue(json::object{{"chosen_inline_result", chosen}});
  return inline_id;
}

std::optional<json::object> FakeBotApi::inline_answer(const std::string& query_id) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->inline_queries.find(query_id);
  if (it == impl_->inline_queries.end() || !it->second.answered) return std::nullopt;
  for (auto call = impl_->calls.rbegin(); call != impl_->calls.rend(); ++call)
    if (call->method == "answerInlineQuery" && call->status == 200 && str(call->params, "inline_query_id") == query_id)
      return call->params;
  return std::nullopt;
}

std::optional<FakeTgInlineMessage> FakeBotApi::inline_message(const std::string& inline_message_id) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->inline_messages.find(inline_message_id);
  if (it == impl_->inline_messages.end()) return std::nullopt;
  return it->second;
}

std::string FakeBotApi::inline_transcript(std::int64_t user_id) const {
  std::lock_guard lock(impl_->mutex);
  std::string out;
  if (auto it = impl_->inline_transcripts.find(user_id); it != impl_->inline_transcripts.end())
    for (const auto& line : it->second) out += line + "\n";
  return out;
}

std::optional<std::int64_t> FakeBotApi::Impl::inline_user_of(const json::object& p) const {
  if (auto id = str(p, "inline_query_id"); !id.empty())
    if (auto it = inline_queries.find(id); it != inline_queries.end()) return it->second.from.id;
  if (auto id = str(p, "inline_message_id"); !id.empty())
    if (auto it = inline_messages.find(id); it != inline_messages.end()) return it->second.user_id;
  return std::nullopt;
}

Answer FakeBotApi::Impl::answer_inline_query(const json::object& p) {
  auto it = inline_queries.find(str(p, "inline_query_id"));
  if (it == inline_queries.end() || it->second.answered || now() - it->second.pushed > kInlineAnswerWindow)
    return fail(400, kTooOld);
  const auto& results = p.at("results").as_array();
  if (results.size() > 50) return fail(400, "Bad Request: RESULTS_TOO_MUCH");
  std::set<std::string> ids;
  std::vector<std::string> lines;
  for (const auto& v : results) {
    if (!v.is_object()) return fail(400, "Bad Request: RESULT_TYPE_INVALID");
    const auto& r = v.as_object();
    auto id = str(r, "id");
    if (id.empty() || id.size() > 64) return fail(400, "Bad Request: RESULT_ID_INVALID");
    if (!ids.insert(id).second) return fail(400, "Bad Request: RESULT_ID_DUPLICATE");
    if (auto a = check_markup(r); a.status != 200) return a;
    auto type = str(r, "type");
    if (type == "photo" && r.contains("photo_file_id")) {
      auto file = files.find(str(r, "photo_file_id"));
      if (file == files.end() || file->second.kind != "photo")
        return fail(400, "Bad Request: wrong file identifier/HTTP URL specified");
      auto caption = str(r, "caption");
      if (auto e = check_text(caption, str(r, "parse_mode"), true)) return *e;
      lines.push_back("   photo " + id + " (" + str(r, "photo_file_id") + ")" +
                      (caption.empty() ? "" : ": " + indent_text(caption)));
    } else if (type == "article") {
      const auto& content = r.at("input_message_content");
      auto text = content.is_object() ? str(content.as_object(), "message_text") : "";
      if (auto e = check_text(text, content.is_object() ? str(content.as_object(), "parse_mode") : "", false))
        return *e;
      lines.push_back("   article " + id + " \"" + str(r, "title") + "\": " + indent_text(text));
    } else {
      lines.push_back("   " + type + " " + id);  // valid per the spec; not modelled further
    }
    keyboard_lines(markup_of(r), lines, false);
  }
  if (auto b = p.find("button"); b != p.end() && b->value().is_object()) {
    const auto& button = b->value().as_object();
    if (button.contains("start_parameter") && !start_parameter_ok(str(button, "start_parameter")))
      return fail(400, "Bad Request: START_PARAM_INVALID");
    lines.push_back("   button \"" + str(button, "text") + "\" start=" + str(button, "start_parameter"));
  }
  auto cache_time = int_of(p, "cache_time");
  auto& state = it->second;
  state.answered = true;
  state.results = results;
  auto& t = inline_transcripts[state.from.id];
  t.push_back("< answerInlineQuery " + it->first +
              (cache_time ? " cache_time=" + std::to_string(*cache_time) : std::string()) +
              (bool_of(p, "is_personal") ? " personal" : ""));
  t.insert(t.end(), lines.begin(), lines.end());
  return ok(true);
}

Answer FakeBotApi::Impl::edit_inline(const std::string& method, const json::object& p,
                                     const std::vector<FakeTgUpload>& uploads) {
  if (p.contains("chat_id") || p.contains("message_id"))
    return fail(400, "Bad Request: inline_message_id can't be used with chat_id and message_id");
  auto it = inline_messages.find(str(p, "inline_message_id"));
  if (it == inline_messages.end()) return fail(400, "Bad Request: MESSAGE_ID_INVALID");
  auto& m = it->second;
  auto markup = markup_of(p);
  auto& t = inline_transcripts[m.user_id];
  if (method == "editMessageText") {
    if (m.kind != "text") return fail(400, "Bad Request: there is no text in the message to edit");
    auto text = str(p, "text");
    auto pm = str(p, "parse_mode");
    if (auto e = check_text(text, pm, false)) return *e;
    if (visible_text(text, pm) == m.text && markup == m.reply_markup) return fail(400, kNotModified);
    m.text = visible_text(text, pm);
    t.push_back("< editMessageText " + m.inline_message_id + ": " + indent_text(text));
  } else if (method == "editMessageMedia") {
    const auto& media = p.at("media");
    if (!media.is_object()) return fail(400, "Bad Request: can't parse InputMedia JSON object");
    const auto& mo = media.as_object();
    if (str(mo, "type") != "photo") return fail(400, "Bad Request: type of file mismatch");
    auto file_id = str(mo, "media");
    if (file_id.rfind("attach://", 0) == 0 || !uploads.empty())
      return fail(400, "Bad Request: a new file can't be uploaded to an inline message; use a file_id or a URL");
    if (file_id.rfind("http://", 0) != 0 && file_id.rfind("https://", 0) != 0) {
      auto file = files.find(file_id);
      if (file == files.end()) return fail(400, "Bad Request: wrong file identifier/HTTP URL specified");
      if (file->second.kind != "photo") return fail(400, "Bad Request: can't use file of type Document as Photo");
    }
    auto caption = str(mo, "caption");
    if (auto e = check_text(caption, str(mo, "parse_mode"), true)) return *e;
    if (m.kind == "photo" && m.file_id == file_id && m.caption == caption && markup == m.reply_markup)
      return fail(400, kNotModified);
    m.kind = "photo";
    m.file_id = file_id;
    m.caption = caption;
    m.text.clear();
    t.push_back("< editMessageMedia " + m.inline_message_id + " (" + file_id + ")" +
                (caption.empty() ? "" : ": " + indent_text(caption)));
  } else if (method == "editMessageCaption") {
    if (m.kind != "photo") return fail(400, "Bad Request: there is no caption in the message to edit");
    auto caption = str(p, "caption");
    if (auto e = check_text(caption, str(p, "parse_mode"), true)) return *e;
    if (caption == m.caption && markup == m.reply_markup) return fail(400, kNotModified);
    m.caption = caption;
    t.push_back("< editMessageCaption " + m.inline_message_id + ": " + indent_text(caption));
  } else {
    if (markup == m.reply_markup) return fail(400, kNotModified);
    t.push_back("< editMessageReplyMarkup " + m.inline_message_id);
  }
  keyboard_lines(markup, t, method == "editMessageReplyMarkup");
  m.reply_markup = markup;
  ++m.edit_count;
  return ok(true);
}

}  // namespace igb::testing
