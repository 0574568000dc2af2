#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "http/client.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/codec.hpp"
#include "util/crypto.hpp"

namespace igb::telegram {

namespace json = boost::json;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool contains(const std::string& haystack, const char* needle) { return haystack.find(needle) != std::string::npos; }

// 400s that mean "this chat cannot receive from the bot" are treated like 403s: stop sending to it.
bool chat_unreachable(const std::string& description) {
  auto d = lower(description);
  return contains(d, "chat not found") || contains(d, "peer_id_invalid") || contains(d, "user not found") ||
         contains(d, "have no rights to send") || contains(d, "not enough rights to send text") ||
         contains(d, "chat_write_forbidden") || contains(d, "user is deactivated") || contains(d, "bot was kicked") ||
         contains(d, "bot was blocked");
}

// "Bad Request: not enough rights to send photos to the chat" (and stickers, videos, documents…: the
// texts as go-telebot/telebot's errors.go lists them): a group's permissions forbid that kind of
// message, while text may still go there. Text is refused as "not enough rights to send text messages"
// or "have no rights to send a message", which chat_unreachable() takes.
bool kind_not_allowed(const std::string& description) {
  return contains(lower(description), "not enough rights to send");
}

ApiError::Kind kind_of(int code, const std::string& description) {
  switch (code) {
    case 429: return ApiError::Kind::rate_limited;
    case 403: return ApiError::Kind::blocked;
    case 409: return ApiError::Kind::conflict;
    case 401: return ApiError::Kind::unauthorized;
    case 404: return ApiError::Kind::not_found;
    default: break;
  }
  if (code >= 500) return ApiError::Kind::server;
  if (contains(lower(description), "message is not modified")) return ApiError::Kind::not_modified;
  if (chat_unreachable(description)) return ApiError::Kind::blocked;
  if (kind_not_allowed(description)) return ApiError::Kind::no_rights;
  return ApiError::Kind::bad_request;
}

std::optional<std::chrono::seconds> retry_after_in(const std::string& description) {
  auto d = lower(description);
  auto at = d.find("retry after ");
  if (at == std::string::npos) return std::nullopt;
  std::int64_t n = 0;
  bool digits = false;
  for (auto i = at + 12; i < d.size() && std::isdigit(static_cast<unsigned char>(d[i])); ++i) {
    n = n * 10 + (d[i] - '0');
    digits = true;
  }
  if (!digits) return std::nullopt;
  return std::chrono::seconds(n);
}

std::optional<std::int64_t> int_field(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  return std::nullopt;
}

// A value as a multipart form field: strings as they are, everything else JSON-serialized (as the
// Bot API reads reply_markup, allowed_updates, … in forms).
std::string form_value(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return json::serialize(v);
}

std::string quoted_name(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"')
      out += "%22";
    else if (c == '\r' || c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

struct Multipart {
  std::string content_type;
  std::string body;
};

Multipart encode_multipart(const json::object& fields, const std::string& file_field, const InputFile& file) {
  std::string boundary;
  do {
    boundary = "igb-" + util::random_hex(16);
  } while (file.bytes.find(boundary) != std::string::npos);
  std::string body;
  for (const auto& kv : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + quoted_name(std::string(kv.key())) +
            "\"\r\n\r\n" + form_value(kv.value()) + "\r\n";
  }
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + quoted_name(file_field) +
          "\"; filename=\"" + quoted_name(file.filename.empty() ? file_field : file.filename) +
          "\"\r\nContent-Type: " + (file.mime_type.empty() ? std::string("application/octet-stream") : file.mime_type) +
          "\r\n\r\n";
  body += file.bytes;
  body += "\r\n--" + boundary + "--\r\n";
  return Multipart{"multipart/form-data; boundary=" + boundary, std::move(body)};
}

struct Upload {
  const char* field;
  const InputFile* file;
};

template <class T>
auto decode_as(Decoded<T> (*fn)(const json::value&, const std::string&)) {
  return [fn](const json::value& v) { return fn(v, "result"); };
}

Decoded<Done> decode_true(const json::value& v) {
  Decoded<Done> d;
  if (v.is_bool() && v.as_bool())
    d.value = Done{};
  else
    d.errors.emplace_back("result: expected true");
  return d;
}

class HttpBotApi final : public BotApi {
 public:
  HttpBotApi(http::Client& client, HttpBotApiOptions options) : client_(client), options_(std::move(options)) {
    while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
  }

  net::awaitable<ApiResult<User>> get_me() override {
    co_return co_await call<User>("getMe", json::object{}, {}, {}, decode_as<User>(&decode_user));
  }

  net::awaitable<ApiResult<std::vector<Update>>> get_updates(GetUpdates o) override {
    auto extra = std::chrono::seconds(std::max(o.timeout, 0));
    co_return co_await call<std::vector<Update>>(
        "getUpdates", to_json(o), {}, extra, [](const json::value& v) -> Decoded<std::vector<Update>> {
          auto d = decode_updates(v);
          Decoded<std::vector<Update>> out;
          out.errors = std::move(d.errors);
          if (d.value) {
            for (const auto& e : d.value->skipped)
              spdlog::warn("telegram: skipping an update that does not decode: {}", e);
            out.value = std::move(d.value->updates);
          }
          return out;
        });
  }

  net::awaitable<ApiResult<Done>> set_webhook(SetWebhook o) override {
    co_return co_await call<Done>("setWebhook", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Done>> delete_webhook(DeleteWebhook o) override {
    co_return co_await call<Done>("deleteWebhook", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Message>> send_message(SendMessage o) override {
    co_return co_await call<Message>("sendMessage", to_json(o), {}, {}, decode_as<Message>(&decode_message));
  }
  net::awaitable<ApiResult<Message>> edit_message_text(EditMessageText o) override {
    co_return co_await call<Message>("editMessageText", to_json(o), {}, {}, decode_as<Message>(&decode_message));
  }
  net::awaitable<ApiResult<Message>> edit_message_reply_markup(EditMessageReplyMarkup o) override {
    co_return co_await call<Message>("editMessageReplyMarkup", to_json(o), {}, {}, decode_as<Message>(&decode_message));
  }
  net::awaitable<ApiResult<Done>> delete_message(DeleteMessage o) override {
    co_return co_await call<Done>("deleteMessage", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Message>> send_photo(SendPhoto o) override {
    auto body = to_json(o);
    co_return co_await call<Message>("sendPhoto", std::move(body), Upload{"photo", &o.photo}, {},
                                     decode_as<Message>(&decode_message));
  }
  net::awaitable<ApiResult<Message>> send_document(SendDocument o) override {
    auto body = to_json(o);
    co_return co_await call<Message>("sendDocument", std::move(body), Upload{"document", &o.document}, {},
                                     decode_as<Message>(&decode_message));
  }
  net::awaitable<ApiResult<Done>> send_chat_action(SendChatAction o) override {
    co_return co_await call<Done>("sendChatAction", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<ChatMember>> get_chat_member(GetChatMember o) override {
    co_return co_await call<ChatMember>("getChatMember", to_json(o), {}, {},
                                        decode_as<ChatMember>(&decode_chat_member));
  }
  net::awaitable<ApiResult<Done>> answer_callback_query(AnswerCallbackQuery o) override {
    co_return co_await call<Done>("answerCallbackQuery", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Done>> answer_inline_query(AnswerInlineQuery o) override {
    co_return co_await call<Done>("answerInlineQuery", to_json(o), {}, {}, decode_true);
  }
  // Inline messages: Telegram answers True (the Message only for messages of a chat).
  net::awaitable<ApiResult<Done>> edit_inline_message_text(EditInlineMessageText o) override {
    co_return co_await call<Done>("editMessageText", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Done>> edit_inline_message_media(EditInlineMessageMedia o) override {
    co_return co_await call<Done>("editMessageMedia", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Done>> set_my_commands(SetMyCommands o) override {
    co_return co_await call<Done>("setMyCommands", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Message>> send_invoice(SendInvoice o) override {
    co_return co_await call<Message>("sendInvoice", to_json(o), {}, {}, decode_as<Message>(&decode_message));
  }
  net::awaitable<ApiResult<std::string>> create_invoice_link(CreateInvoiceLink o) override {
    co_return co_await call<std::string>("createInvoiceLink", to_json(o), {}, {}, [](const json::value& v) {
      Decoded<std::string> d;
      if (v.is_string())
        d.value = std::string(v.as_string());
      else
        d.errors.emplace_back("result: expected string");
      return d;
    });
  }
  net::awaitable<ApiResult<Done>> answer_pre_checkout_query(AnswerPreCheckoutQuery o) override {
    co_return co_await call<Done>("answerPreCheckoutQuery", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Done>> refund_star_payment(RefundStarPayment o) override {
    co_return co_await call<Done>("refundStarPayment", to_json(o), {}, {}, decode_true);
  }
  net::awaitable<ApiResult<Done>> edit_user_star_subscription(EditUserStarSubscription o) override {
    co_return co_await call<Done>("editUserStarSubscription", to_json(o), {}, {}, decode_true);
  }

 private:
  // Defense in depth: nothing we build holds the URL, but a description comes from the other side.
  std::string scrub(std::string s) const {
    if (options_.token.empty()) return s;
    for (auto at = s.find(options_.token); at != std::string::npos; at = s.find(options_.token, at))
      s.replace(at, options_.token.size(), "<token>");
    return s;
  }

  ApiError error(ApiError::Kind kind, int code, const std::string& description) const {
    return ApiError{.kind = kind, .error_code = code, .description = scrub(description)};
  }

  template <class T, class Decode>
  net::awaitable<ApiResult<T>> call(const char* method, json::object params, std::optional<Upload> upload,
                                    std::chrono::seconds extra_timeout, Decode decode) {
    http::Request request;
    request.method = "POST";
    request.url = options_.base_url + "/bot" + options_.token + "/" + method;
    request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.request_timeout + extra_timeout);
    if (upload && upload->file->is_upload()) {
      auto mp = encode_multipart(params, upload->field, *upload->file);
      request.headers.emplace_back("Content-Type", std::move(mp.content_type));
      request.body = std::move(mp.body);
    } else {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = json::serialize(params);
    }

    http::Response response;
    try {
      response = co_await client_.send(std::move(request));
    } catch (const http::TransportError& e) {
      spdlog::debug("telegram: {} failed: {}", method, scrub(e.what()));
      co_return error(ApiError::Kind::network, 0, std::string(method) + ": " + e.what());
    } catch (const std::invalid_argument&) {
      // The client's message does not quote the URL, but this one is ours to be sure of.
      throw std::invalid_argument("telegram: the Bot API base URL is not a valid http(s) URL");
    }

    boost::system::error_code ec;
    auto doc = json::parse(response.body, ec);
    const json::object* envelope = !ec && doc.is_object() ? &doc.as_object() : nullptr;
    auto ok_it = envelope ? envelope->find("ok") : nullptr;
    if (!envelope || ok_it == envelope->end() || !ok_it->value().is_bool()) {
      // Not the Bot API speaking (a proxy's or load balancer's page). The body is not quoted: it may
      // echo the request path.
      auto what = std::string(method) + ": HTTP " + std::to_string(response.status) +
                  " without the Bot API's JSON envelope" +
                  (response.header("Content-Type").empty() ? "" : " (" + response.header("Content-Type") + ")");
      if (response.status >= 500) co_return error(ApiError::Kind::server, response.status, what);
      co_return error(ApiError::Kind::invalid_response, 0, what);
    }

    if (ok_it->value().as_bool()) {
      auto result = envelope->find("result");
      if (result == envelope->end())
        co_return error(ApiError::Kind::invalid_response, 0, std::string(method) + ": result: missing");
      auto decoded = decode(result->value());
      auto* value = decoded.get();
      if (value == nullptr)
        co_return error(ApiError::Kind::invalid_response, 0, std::string(method) + ": " + decoded.error_text());
      co_return ApiResult<T>(std::move(*value));
    }

    int code = static_cast<int>(int_field(*envelope, "error_code").value_or(response.status));
    std::string description;
    if (auto d = envelope->find("description"); d != envelope->end() && d->value().is_string())
      description = std::string(d->value().as_string());
    ApiError e =
        error(kind_of(code, description), code, description.empty() ? "HTTP " + std::to_string(code) : description);
    if (auto p = envelope->find("parameters"); p != envelope->end() && p->value().is_object()) {
      const auto& params_obj = p->value().as_object();
      if (auto r = int_field(params_obj, "retry_after")) e.retry_after = std::chrono::seconds(*r);
      e.migrate_to_chat_id = int_field(params_obj, "migrate_to_chat_id");
    }
    if (e.kind == ApiError::Kind::rate_limited && !e.retry_after) e.retry_after = retry_after_in(description);
    spdlog::debug("telegram: {} → {} {}", method, to_string(e.kind), e.description);
    co_return e;
  }

  http::Client& client_;
  HttpBotApiOptions options_;
};

}  // namespace

std::unique_ptr<BotApi> make_http_bot_api(http::Client& client, HttpBotApiOptions options) {
  return std::make_unique<HttpBotApi>(client, std::move(options));
}

}  // namespace igb::telegram
