#include "support/fake_bot_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef IGB_FAKE_BOT_API_SPEC
#define IGB_FAKE_BOT_API_SPEC ""
#endif

namespace igb::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTok = net::as_tuple(net::use_awaitable);

// ---- The spec

struct SpecField {
  std::string name;
  std::vector<std::string> types;
  bool required = false;
};

struct SpecType {
  std::vector<SpecField> fields;
  std::vector<std::string> subtypes;
  bool known = false;
};

struct Spec {
  std::map<std::string, std::vector<SpecField>> methods;
  std::map<std::string, std::string> method_by_lower;  // Telegram matches method names case-insensitively
  std::map<std::string, SpecType> types;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<SpecField> read_fields(const json::value& v) {
  std::vector<SpecField> out;
  if (!v.is_object() || !v.as_object().contains("fields")) return out;
  for (const auto& f : v.at("fields").as_array()) {
    SpecField sf;
    sf.name = json::value_to<std::string>(f.at("name"));
    for (const auto& t : f.at("types").as_array()) sf.types.push_back(json::value_to<std::string>(t));
    sf.required = f.at("required").as_bool();
    out.push_back(std::move(sf));
  }
  return out;
}

std::shared_ptr<const Spec> load_spec(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Spec>> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(path); it != cache.end()) return it->second;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("FakeBotApi: cannot read the Bot API spec at " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = json::parse(ss.str());
  auto spec = std::make_shared<Spec>();
  for (const auto& [name, m] : doc.at("methods").as_object()) {
    spec->methods[std::string(name)] = read_fields(m);
    spec->method_by_lower[lower(std::string(name))] = std::string(name);
  }
  for (const auto& [name, t] : doc.at("types").as_object()) {
    SpecType st;
    st.known = true;
    st.fields = read_fields(t);
    if (t.as_object().contains("subtypes"))
      for (const auto& s : t.at("subtypes").as_array()) st.subtypes.push_back(json::value_to<std::string>(s));
    spec->types[std::string(name)] = std::move(st);
  }
  cache[path] = spec;
  return spec;
}

std::string default_spec_path() {
  if (const char* dir = std::getenv("IMGGENBOT_SOURCE_DIR"); dir && *dir)
    return std::string(dir) + "/tests/support/telegram/botapi.json";
  return IGB_FAKE_BOT_API_SPEC;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

class Checker {
 public:
  Checker(const Spec& spec, bool reject_unknown) : spec_(spec), reject_unknown_(reject_unknown) {}

  // Checks `v` against one of `types`; appends "path: problem" lines to errors.
  void check_any(const std::vector<std::string>& types, const json::value& v, const std::string& path,
                 std::vector<std::string>& errors) const {
    std::vector<std::string> best;
    bool have_best = false;
    for (const auto& t : types) {
      std::vector<std::string> e;
      check(t, v, path, e);
      if (e.empty()) return;
      if (!have_best && kind_matches(t, v)) {
        best = std::move(e);
        have_best = true;
      }
    }
    if (have_best) {
      errors.insert(errors.end(), best.begin(), best.end());
    } else {
      errors.push_back(path + ": expected " + join(types, " or "));
    }
  }

  void check_fields(const std::vector<SpecField>& fields, const json::object& o, const std::string& path,
                    std::vector<std::string>& errors) const {
    const std::string prefix = path.empty() ? "" : path + ".";
    for (const auto& f : fields) {
      auto it = o.find(f.name);
      if (it == o.end()) {
        if (f.required) errors.push_back(prefix + f.name + ": missing required " + (path.empty() ? "parameter" : "field"));
        continue;
      }
      check_any(f.types, it->value(), prefix + f.name, errors);
    }
    if (reject_unknown_) {
      for (const auto& kv : o) {
        bool known = std::any_of(fields.begin(), fields.end(), [&](const SpecField& f) { return f.name == kv.key(); });
        if (!known) errors.push_back(prefix + std::string(kv.key()) + ": unknown " + (path.empty() ? "parameter" : "field"));
      }
    }
  }

 private:
  bool kind_matches(const std::string& t, const json::value& v) const {
    if (t.rfind("Array of ", 0) == 0) return v.is_array();
    if (t == "Integer" || t == "Float") return v.is_number();
    if (t == "String") return v.is_string();
    if (t == "Boolean") return v.is_bool();
    return v.is_object();
  }

  void check(const std::string& t, const json::value& v, const std::string& path, std::vector<std::string>& errors) const {
    if (t.rfind("Array of ", 0) == 0) {
      if (!v.is_array()) {
        errors.push_back(path + ": expected " + t);
        return;
      }
      const std::string inner = t.substr(9);
      const auto& a = v.as_array();
      for (std::size_t i = 0; i < a.size(); ++i) check_any({inner}, a[i], path + "[" + std::to_string(i) + "]", errors);
      return;
    }
    if (t == "Integer") {
      if (!v.is_int64() && !v.is_uint64()) errors.push_back(path + ": expected Integer");
      return;
    }
    if (t == "Float") {
      if (!v.is_number()) errors.push_back(path + ": expected Float");
      return;
    }
    if (t == "String") {
      if (!v.is_string()) errors.push_back(path + ": expected String");
      return;
    }
    if (t == "Boolean" || t == "True") {
      if (!v.is_bool()) errors.push_back(path + ": expected Boolean");
      return;
    }
    if (t == "InputFile") {
      if (!v.is_object() || !v.as_object().contains("upload")) errors.push_back(path + ": expected InputFile (a multipart/form-data part)");
      return;
    }
    auto it = spec_.types.find(t);
    if (it == spec_.types.end()) {
      errors.push_back(path + ": the spec has no type " + t);
      return;
    }
    if (!v.is_object()) {
      errors.push_back(path + ": expected " + t);
      return;
    }
    if (!it->second.subtypes.empty()) {
      check_any(it->second.subtypes, v, path, errors);
      return;
    }
    check_fields(it->second.fields, v.as_object(), path, errors);
  }

  const Spec& spec_;
  bool reject_unknown_;
};

// Form values are strings; the spec's types say what they mean.
json::value coerce(const std::vector<std::string>& types, const std::string& s) {
  auto has = [&](const char* t) { return std::find(types.begin(), types.end(), t) != types.end(); };
  if (has("Integer")) {
    try {
      std::size_t pos = 0;
      long long n = std::stoll(s, &pos);
      if (pos == s.size()) return json::value(static_cast<std::int64_t>(n));
    } catch (...) {
    }
  }
  if (has("Float")) {
    try {
      std::size_t pos = 0;
      double d = std::stod(s, &pos);
      if (pos == s.size()) return json::value(d);
    } catch (...) {
    }
  }
  if (has("Boolean")) {
    if (s == "true" || s == "1") return json::value(true);
    if (s == "false" || s == "0") return json::value(false);
  }
  bool structured = std::any_of(types.begin(), types.end(), [](const std::string& t) {
    return t != "String" && t != "Integer" && t != "Float" && t != "Boolean" && t != "InputFile";
  });
  if (structured) {
    boost::system::error_code ec;
    auto v = json::parse(s, ec);
    if (!ec && (v.is_object() || v.is_array())) return v;
  }
  return json::value(s);
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) && std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void parse_form(std::string_view s, std::map<std::string, std::string>& out) {
  while (!s.empty()) {
    auto amp = s.find('&');
    auto pair = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out[url_decode(pair)] = "";
    } else {
      out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
    }
  }
}

std::string header_param(std::string_view header, std::string_view name) {
  // name="value" or name=value inside a header like Content-Disposition or Content-Type.
  std::string key = std::string(name) + "=";
  std::size_t pos = 0;
  while ((pos = header.find(key, pos)) != std::string_view::npos) {
    if (pos == 0 || header[pos - 1] == ' ' || header[pos - 1] == ';') break;
    pos += key.size();
  }
  if (pos == std::string_view::npos) return {};
  pos += key.size();
  if (pos < header.size() && header[pos] == '"') {
    auto end = header.find('"', pos + 1);
    return std::string(header.substr(pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1));
  }
  auto end = header.find(';', pos);
  auto v = header.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return std::string(v);
}

struct Part {
  std::string name;
  std::string filename;
  bool has_filename = false;
  std::string content_type;
  std::string data;
};

// Returns false for a malformed body.
bool parse_multipart(const std::string& body, const std::string& boundary, std::vector<Part>& parts) {
  if (boundary.empty()) return false;
  const std::string delim = "--" + boundary;
  auto pos = body.find(delim);
  if (pos == std::string::npos) return false;
  pos += delim.size();
  while (true) {
    if (body.compare(pos, 2, "--") == 0) return true;
    if (body.compare(pos, 2, "\r\n") != 0) return false;
    pos += 2;
    auto head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string::npos) return false;
    Part part;
    std::string_view head(body.data() + pos, head_end - pos);
    while (!head.empty()) {
      auto eol = head.find("\r\n");
      auto line = head.substr(0, eol);
      head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      auto name = lower(std::string(line.substr(0, colon)));
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name == "content-disposition") {
        part.name = header_param(value, "name");
        if (value.find("filename=") != std::string_view::npos) {
          part.has_filename = true;
          part.filename = header_param(value, "filename");
        }
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
    }
    auto data_start = head_end + 4;
    auto next = body.find("\r\n" + delim, data_start);
    if (next == std::string::npos) return false;
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + 2 + delim.size();
  }
}

std::size_t utf16_length(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

// The text as Telegram counts it: HTML tags and entities removed for parse_mode HTML.
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

struct Answer {
  int status = 200;
  json::value result;
  std::string description;
  std::optional<int> retry_after;
  bool front_page = false;  // answered by Telegram's front (an outage): nginx's HTML page, not the envelope
};

// What nginx in front of the Bot API answers while the servers behind it are down.
constexpr std::string_view kBadGatewayPage =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n";

Answer bad_gateway() { return Answer{.status = 502, .description = "Bad Gateway", .front_page = true}; }

Answer ok(json::value result) { return Answer{.result = std::move(result)}; }
Answer fail(int status, std::string description, std::optional<int> retry_after = std::nullopt) {
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
    if (a.retry_after) o["parameters"] = json::object{{"retry_after", *a.retry_after}};
  }
  return json::serialize(o);
}

const std::set<std::string> kDefaultExcludedUpdates = {"chat_member", "message_reaction", "message_reaction_count"};

std::string update_type(const json::object& u) {
  for (const auto& kv : u)
    if (kv.key() != "update_id") return std::string(kv.key());
  return {};
}

}  // namespace

struct FakeBotApi::Impl {
  struct ChatState {
    FakeTgChat chat;
    FakeTgUser user;  // private chats: the user
    std::int64_t next_message_id = 1;
    std::map<std::int64_t, FakeTgMessage> messages;
    std::map<std::int64_t, json::object> message_json;
    std::vector<std::string> transcript;
    std::deque<Clock::time_point> sent;  // accepted rate-limited calls
  };
  struct StoredFile {
    std::string kind;  // "photo", "document"
    std::string bytes;
    std::string mime_type;
    std::string filename;
    json::value object;  // PhotoSize array or Document
  };
  struct ScriptedFailure {
    std::string method;
    int code;
    std::string description;
    std::optional<int> retry_after;
    int times;
  };
  struct Poller {
    net::steady_timer* timer;
    bool terminated = false;
    bool outage = false;  // the front went down while this poll was held
  };
  struct Charge {
    std::int64_t user_id;
    bool refunded = false;
  };

  FakeBotApiOptions options;
  std::shared_ptr<const Spec> spec;

  mutable std::recursive_mutex mutex;
  mutable std::condition_variable_any changed;

  // Guarded by mutex.
  std::int64_t next_update_id = 1;
  std::deque<json::object> pending;
  std::vector<std::string> allowed;
  bool allowed_set = false;
  std::string webhook_url;
  std::string webhook_secret;
  std::set<std::int64_t> blocked;
  std::map<std::int64_t, ChatState> chats;
  std::map<std::string, StoredFile> files;  // by every file_id
  std::map<std::string, int> file_counters;
  std::map<std::string, std::int64_t> callback_chat;  // query id → chat
  std::map<std::string, std::int64_t> pre_checkout_chat;
  std::set<std::string> answered;  // callback and pre-checkout query ids
  std::int64_t next_callback = 1, next_pre_checkout = 1, next_charge = 1, next_invoice_link = 1, next_other = 1;
  std::map<std::string, Charge> charges;
  std::vector<std::string> refunded;
  std::map<std::string, json::array> commands;
  std::optional<FakeRateLimits> limits;
  std::deque<Clock::time_point> global_sent;
  std::int64_t rate_limited = 0;
  std::vector<ScriptedFailure> failures;
  std::vector<FakeTgCall> calls;
  std::vector<FakeSpecViolation> violations;
  std::int64_t get_updates_answered = 0;
  Clock::time_point outage_until{};  // begin_outage(); real time
  std::int64_t outage_answered = 0;
  std::vector<Poller*> pollers;  // touched on the server thread only (under mutex)

  net::io_context io;
  tcp::acceptor acceptor{io};
  std::uint16_t port = 0;
  std::string host = "127.0.0.1";  // for base_url()
  std::thread thread;
  bool stopped = false;
  std::set<tcp::socket*> sockets;  // server thread only

  Clock::time_point now() const { return options.clock ? options.clock() : Clock::now(); }
  bool in_outage() const { return Clock::now() < outage_until; }

  void notify() { changed.notify_all(); }

  void wake_pollers() {
    net::post(io, [this] {
      std::lock_guard lock(mutex);
      for (auto* p : pollers) p->timer->cancel();
    });
  }

  // ---- JSON of users, chats, messages

  static json::object user_json(const FakeTgUser& u) {
    json::object o{{"id", u.id}, {"is_bot", u.is_bot}, {"first_name", u.first_name}};
    if (!u.last_name.empty()) o["last_name"] = u.last_name;
    if (!u.username.empty()) o["username"] = u.username;
    if (!u.language_code.empty()) o["language_code"] = u.language_code;
    return o;
  }

  json::object chat_json(const ChatState& c) const {
    if (c.chat.type == "private") {
      json::object o{{"id", c.chat.id}, {"type", "private"}, {"first_name", c.user.first_name}};
      if (!c.user.last_name.empty()) o["last_name"] = c.user.last_name;
      if (!c.user.username.empty()) o["username"] = c.user.username;
      return o;
    }
    return json::object{{"id", c.chat.id}, {"type", c.chat.type}, {"title", c.chat.title}};
  }

  ChatState& chat_of(const FakeTgUser& from, const std::optional<FakeTgChat>& chat) {
    if (chat) {
      auto& c = chats[chat->id];
      c.chat = *chat;
      if (chat->type == "private") c.user = from;
      return c;
    }
    auto& c = chats[from.id];
    c.chat = FakeTgChat{.id = from.id, .type = "private", .title = ""};
    c.user = from;
    return c;
  }

  static std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  std::int64_t enqueue(json::object update) {
    auto id = next_update_id++;
    update["update_id"] = id;
    pending.push_back(std::move(update));
    wake_pollers();
    notify();
    return id;
  }

  static std::string indent_text(const std::string& text) {
    std::string out;
    for (char c : text) {
      out += c;
      if (c == '\n') out += "    ";
    }
    return out;
  }

  static void keyboard_lines(const json::value& markup, std::vector<std::string>& lines, bool say_none) {
    if (!markup.is_object() || !markup.as_object().contains("inline_keyboard")) {
      if (say_none) lines.push_back("   (no keyboard)");
      return;
    }
    const auto& rows = markup.at("inline_keyboard");
    if (!rows.is_array() || rows.as_array().empty()) {
      if (say_none) lines.push_back("   (no keyboard)");
      return;
    }
    for (const auto& row : rows.as_array()) {
      std::string line = "  ";
      if (row.is_array())
        for (const auto& b : row.as_array()) {
          if (!b.is_object()) continue;
          const auto& o = b.as_object();
          line += " [" + str(o, "text") + "|";
          if (o.contains("callback_data")) line += str(o, "callback_data");
          else if (o.contains("url")) line += "url:" + str(o, "url");
          else if (bool_of(o, "pay")) line += "pay";
          else line += "?";
          line += "]";
        }
      lines.push_back(line);
    }
  }

  // ---- Spec validation and parameter decoding

  struct Incoming {
    std::string method;  // canonical
    json::object params;
    std::vector<FakeTgUpload> uploads;
    std::string content_type;
  };

  // Returns an error answer, or nullopt when the params were decoded (violations are still checked
  // by the caller).
  std::optional<Answer> decode_params(const bhttp::request<bhttp::string_body>& req, Incoming& in,
                                      const std::vector<SpecField>& fields) {
    auto field_types = [&](const std::string& name) -> std::vector<std::string> {
      for (const auto& f : fields)
        if (f.name == name) return f.types;
      return {"String"};
    };
    std::map<std::string, std::string> strings;
    std::string target(req.target());
    if (auto q = target.find('?'); q != std::string::npos) parse_form(std::string_view(target).substr(q + 1), strings);
    std::string ctype(req[bhttp::field::content_type]);
    auto media = lower(ctype.substr(0, ctype.find(';')));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    in.content_type = media;
    const auto& body = req.body();
    if (media == "application/json") {
      boost::system::error_code ec;
      auto v = json::parse(body, ec);
      if (ec || !v.is_object()) return fail(400, "Bad Request: can't parse JSON object");
      for (const auto& kv : v.as_object()) in.params[kv.key()] = kv.value();
    } else if (media == "application/x-www-form-urlencoded") {
      parse_form(body, strings);
    } else if (media == "multipart/form-data") {
      std::vector<Part> parts;
      if (!parse_multipart(body, header_param(ctype, "boundary"), parts))
        return fail(400, "Bad Request: can't parse multipart/form-data request");
      for (auto& p : parts) {
        if (p.has_filename) {
          in.params[p.name] = json::object{{"upload", true}, {"filename", p.filename},
                                           {"content_type", p.content_type}, {"size", p.data.size()}};
          in.uploads.push_back(FakeTgUpload{.field = p.name, .filename = p.filename, .content_type = p.content_type,
                                            .bytes = std::move(p.data)});
        } else {
          strings[p.name] = std::move(p.data);
        }
      }
    } else if (!body.empty()) {
      return fail(400, "Bad Request: unsupported Content-Type " + media);
    }
    for (auto& [k, v] : strings)
      if (!in.params.contains(k)) in.params[k] = coerce(field_types(k), v);
    // attach://name refers to an uploaded part.
    for (auto& kv : in.params) {
      if (kv.value().is_string() && kv.value().as_string().starts_with("attach://")) {
        std::string part(kv.value().as_string().subview().substr(9));
        for (auto& u : in.uploads)
          if (u.field == part) kv.value() = in.params.contains(part) ? in.params[part] : json::value();
      }
    }
    return std::nullopt;
  }

  // ---- Rate limits

  // 0 when the call may pass now, else the seconds to wait.
  int rate_wait(ChatState* chat) {
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

  Answer check_markup(const json::object& p) {
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
          return fail(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
        if (actions > 1) return fail(400, "Bad Request: can't parse inline keyboard button: exactly one of the optional fields must be used");
      }
    }
    return ok(nullptr);
  }

  static json::value markup_of(const json::object& p) {
    auto it = p.find("reply_markup");
    if (it == p.end()) return nullptr;
    const auto& v = it->value();
    if (v.is_object() && v.as_object().contains("inline_keyboard") && v.at("inline_keyboard").is_array() &&
        v.at("inline_keyboard").as_array().empty())
      return nullptr;
    return v;
  }

  std::optional<Answer> check_text(const std::string& text, const std::string& parse_mode, bool caption) {
    auto visible = visible_text(text, parse_mode);
    if (caption) {
      if (utf16_length(visible) > 1024) return fail(400, "Bad Request: message caption is too long");
      return std::nullopt;
    }
    if (blank(visible)) return fail(400, "Bad Request: message text is empty");
    if (utf16_length(visible) > 4096) return fail(400, "Bad Request: message is too long");
    return std::nullopt;
  }

  std::optional<std::int64_t> reply_to_of(const json::object& p) {
    if (auto it = p.find("reply_parameters"); it != p.end() && it->value().is_object())
      return int_of(it->value().as_object(), "message_id");
    return int_of(p, "reply_to_message_id");
  }

  FakeTgMessage& new_bot_message(ChatState& c, json::object& mj, const std::string& kind) {
    auto id = c.next_message_id++;
    FakeTgMessage m{.chat_id = c.chat.id, .message_id = id, .from_bot = true, .from_user_id = options.bot.id, .kind = kind};
    mj["message_id"] = id;
    mj["from"] = user_json(options.bot);
    mj["chat"] = chat_json(c);
    mj["date"] = unix_now();
    c.messages[id] = m;
    return c.messages[id];
  }

  std::string reply_suffix(const json::object& p) {
    auto r = reply_to_of(p);
    return r ? " (reply to #" + std::to_string(*r) + ")" : "";
  }

  std::optional<Answer> check_reply(ChatState& c, const json::object& p, json::object& mj) {
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

  Answer send_message(ChatState& c, const json::object& p) {
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

  Answer send_file(ChatState& c, const std::string& method, const std::string& field, const json::object& p,
                   std::vector<FakeTgUpload>& uploads) {
    const std::string kind = field;  // "photo" or "document"
    auto caption = str(p, "caption");
    auto pm = str(p, "parse_mode");
    if (auto e = check_text(caption, pm, true)) return *e;
    json::object mj;
    if (auto e = check_reply(c, p, mj)) return *e;
    std::string file_id, how;
    const auto& v = p.at(field);
    if (v.is_object()) {
      auto up = std::find_if(uploads.begin(), uploads.end(), [&](const FakeTgUpload& u) {
        return u.field == field || ("attach://" + u.field) == field;
      });
      if (up == uploads.end()) return fail(400, "Bad Request: there is no " + field + " in the request");
      file_id = kind + "-" + std::to_string(++file_counters[kind]);
      up->file_id = file_id;
      StoredFile f{.kind = kind, .bytes = up->bytes, .mime_type = up->content_type, .filename = up->filename};
      if (kind == "photo") {
        auto size = png_size(up->bytes).value_or(std::pair<int, int>(512, 512));
        int tw = std::min(size.first, 320);
        int th = size.first > 0 ? size.second * tw / size.first : size.second;
        f.object = json::array{
            json::object{{"file_id", file_id + "-s"}, {"file_unique_id", "u" + file_id + "-s"}, {"width", tw}, {"height", th},
                         {"file_size", static_cast<std::int64_t>(up->bytes.size() / 4)}},
            json::object{{"file_id", file_id}, {"file_unique_id", "u" + file_id}, {"width", size.first},
                         {"height", size.second}, {"file_size", static_cast<std::int64_t>(up->bytes.size())}}};
      } else {
        json::object d{{"file_id", file_id}, {"file_unique_id", "u" + file_id}, {"file_size", static_cast<std::int64_t>(up->bytes.size())}};
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
        return fail(400, "Bad Request: can't use file of type " + std::string(it->second.kind == "photo" ? "Photo" : "Document") +
                             " as " + (kind == "photo" ? "Photo" : "Document"));
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

  Answer edit(ChatState& c, const std::string& method, const json::object& p) {
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
        return fail(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
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
        return fail(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
      m.caption = caption;
      mj["caption"] = visible_text(caption, pm);
      c.transcript.push_back("< editMessageCaption #" + std::to_string(*id) + ": " + indent_text(caption));
      keyboard_lines(markup, c.transcript, false);
    } else {
      if (markup == m.reply_markup)
        return fail(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
      c.transcript.push_back("< editMessageReplyMarkup #" + std::to_string(*id));
      keyboard_lines(markup, c.transcript, true);
    }
    m.reply_markup = markup;
    if (markup.is_null()) mj.erase("reply_markup");
    else mj["reply_markup"] = markup;
    mj["edit_date"] = unix_now();
    ++m.edit_count;
    return ok(mj);
  }

  Answer dispatch(const std::string& method, Incoming& in, FakeTgCall& call) {
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
      auto it = chats.find(*call.chat_id);
      if (it == chats.end()) return fail(400, "Bad Request: chat not found");
      chat = &it->second;
      if (blocked.contains(*call.chat_id))
        return fail(403, chat->chat.type == "private" ? "Forbidden: bot was blocked by the user"
                                                      : "Forbidden: bot was kicked from the " + std::string(chat->chat.type == "supergroup" ? "supergroup" : "group") + " chat");
    }
    if (auto a = check_markup(p); a.status != 200) return a;
    if (limits && chat &&
        std::find(limits->limited_methods.begin(), limits->limited_methods.end(), method) != limits->limited_methods.end()) {
      if (int wait = rate_wait(chat)) {
        ++rate_limited;
        return fail(429, "Too Many Requests: retry after " + std::to_string(wait), wait);
      }
    }

    if (method == "getMe") return ok(user_json(options.bot));
    if (method == "sendMessage") return send_message(*chat, p);
    if (method == "sendPhoto") return send_file(*chat, method, "photo", p, in.uploads);
    if (method == "sendDocument") return send_file(*chat, method, "document", p, in.uploads);
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
      static const std::set<std::string> kActions = {"typing", "upload_photo", "record_video", "upload_video",
                                                     "record_voice", "upload_voice", "upload_document",
                                                     "choose_sticker", "find_location", "record_video_note",
                                                     "upload_video_note"};
      auto action = str(p, "action");
      if (!kActions.contains(action)) return fail(400, "Bad Request: wrong parameter action in request");
      chat->transcript.push_back("< sendChatAction " + action);
      return ok(true);
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
      if (it == pre_checkout_chat.end() || answered.contains(it->first)) return fail(400, "Bad Request: QUERY_ID_INVALID");
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
      if (currency == "XTR" && p.at("prices").as_array().size() != 1) return fail(400, "Bad Request: STARS_INVOICE_INVALID");
      json::object mj;
      auto& m = new_bot_message(*chat, mj, "invoice");
      m.text = str(p, "title");
      m.reply_markup = markup_of(p);
      mj["invoice"] = json::object{{"title", str(p, "title")}, {"description", str(p, "description")},
                                   {"start_parameter", str(p, "start_parameter")}, {"currency", currency},
                                   {"total_amount", total}};
      if (!m.reply_markup.is_null()) mj["reply_markup"] = m.reply_markup;
      chat->message_json[m.message_id] = mj;
      chat->transcript.push_back("< sendInvoice #" + std::to_string(m.message_id) + ": " + str(p, "title") + " — " +
                                 std::to_string(total) + " " + currency + " " + str(p, "payload"));
      keyboard_lines(m.reply_markup, chat->transcript, false);
      return ok(mj);
    }
    if (method == "createInvoiceLink") return ok(json::value("https://t.me/$fake-invoice-" + std::to_string(next_invoice_link++)));
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
        c.transcript.push_back("< editUserStarSubscription " + charge_id + (bool_of(p, "is_canceled") ? " canceled" : " renewed"));
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
      commands[commands_key()] = p.contains("commands") && p.at("commands").is_array() ? p.at("commands").as_array() : json::array{};
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
      if (auto it = p.find("allowed_updates"); it != p.end() && it->value().is_array()) set_allowed(it->value().as_array());
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
      json::object info{{"url", webhook_url}, {"has_custom_certificate", false},
                        {"pending_update_count", static_cast<std::int64_t>(pending.size())}};
      return ok(info);
    }
    if (method == "getFile") {
      auto id = str(p, "file_id");
      auto it = files.find(id);
      if (it == files.end()) return fail(400, "Bad Request: invalid file_id");
      return ok(json::object{{"file_id", id}, {"file_unique_id", "u" + id},
                             {"file_size", static_cast<std::int64_t>(it->second.bytes.size())},
                             {"file_path", it->second.kind + "s/" + id}});
    }
    return ok(true);  // valid per the spec, no behaviour modelled
  }

  void set_allowed(const json::array& a) {
    allowed.clear();
    for (const auto& v : a)
      if (v.is_string()) allowed.emplace_back(v.as_string());
    allowed_set = true;
  }

  bool is_allowed(const json::object& update) const {
    auto type = update_type(update);
    if (allowed.empty()) return !kDefaultExcludedUpdates.contains(type);
    return std::find(allowed.begin(), allowed.end(), type) != allowed.end();
  }

  // Drops updates below offset and returns up to limit allowed ones (those not allowed are dropped
  // as Telegram does).
  json::array take_updates(std::optional<std::int64_t> offset, std::int64_t limit) {
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

  void record(FakeTgCall call, const Answer& a) {
    call.status = a.status;
    if (a.status == 200) {
      call.result = a.result;
    } else {
      call.description = a.description;
      if (call.chat_id)
        if (auto it = chats.find(*call.chat_id); it != chats.end())
          it->second.transcript.push_back("! " + std::to_string(a.status) + " " + call.method);
    }
    calls.push_back(std::move(call));
    notify();
  }

  // ---- The server

  net::awaitable<std::pair<int, std::string>> handle(const bhttp::request<bhttp::string_body>& req) {
    std::string target(req.target());
    std::string path = target.substr(0, target.find('?'));
    auto not_found = std::pair<int, std::string>(404, R"({"ok":false,"error_code":404,"description":"Not Found"})");
    if (!path.starts_with("/bot")) co_return not_found;
    auto slash = path.find('/', 4);
    if (slash == std::string::npos) co_return not_found;
    std::string token = path.substr(4, slash - 4);
    std::string method_name = path.substr(slash + 1);
    if (token != options.token) co_return std::pair<int, std::string>(401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})");

    std::unique_lock lock(mutex);
    FakeTgCall call;
    call.time = Clock::now();
    auto m = spec->method_by_lower.find(lower(method_name));
    if (in_outage()) {
      call.method = m == spec->method_by_lower.end() ? method_name : m->second;
      Answer a = bad_gateway();
      ++outage_answered;
      record(std::move(call), a);
      co_return std::pair<int, std::string>(a.status, std::string(kBadGatewayPage));
    }
    if (m == spec->method_by_lower.end()) {
      call.method = method_name;
      Answer a = fail(404, "Not Found");
      violations.push_back({method_name, method_name + ": no such method in the Bot API"});
      record(std::move(call), a);
      co_return std::pair<int, std::string>(404, envelope(a));
    }
    call.method = m->second;
    const auto& fields = spec->methods.at(m->second);
    Incoming in;
    in.method = m->second;
    if (auto e = decode_params(req, in, fields)) {
      call.content_type = in.content_type;
      violations.push_back({call.method, call.method + ": " + e->description});
      record(std::move(call), *e);
      co_return std::pair<int, std::string>(e->status, envelope(*e));
    }
    call.params = in.params;
    call.content_type = in.content_type;
    std::vector<std::string> errors;
    Checker(*spec, options.reject_unknown_parameters).check_fields(fields, in.params, "", errors);
    if (!errors.empty()) {
      for (const auto& e : errors) violations.push_back({call.method, call.method + ": " + e});
      Answer a = fail(400, "Bad Request: " + errors.front());
      call.uploads = std::move(in.uploads);
      record(std::move(call), a);
      co_return std::pair<int, std::string>(400, envelope(a));
    }

    Answer a;
    if (call.method == "getUpdates") {
      a = co_await get_updates(in.params, lock);
    } else {
      a = dispatch(call.method, in, call);
    }
    call.uploads = std::move(in.uploads);
    auto body = a.front_page ? std::string(kBadGatewayPage) : envelope(a);
    record(std::move(call), a);
    co_return std::pair<int, std::string>(a.status, body);
  }

  net::awaitable<Answer> get_updates(const json::object& p, std::unique_lock<std::recursive_mutex>& lock) {
    const std::string kTerminated = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
    for (auto it = failures.begin(); it != failures.end(); ++it) {
      if (!it->method.empty() && it->method != "getUpdates") continue;
      auto f = fail(it->code, it->description, it->retry_after);
      if (--it->times <= 0) failures.erase(it);
      co_return f;
    }
    if (!webhook_url.empty())
      co_return fail(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    for (auto* other : pollers) {
      other->terminated = true;
      other->timer->cancel();
    }
    if (auto it = p.find("allowed_updates"); it != p.end() && it->value().is_array()) set_allowed(it->value().as_array());
    auto offset = int_of(p, "offset");
    auto limit = std::clamp<std::int64_t>(int_of(p, "limit").value_or(100), 1, 100);
    auto timeout = std::max<std::int64_t>(int_of(p, "timeout").value_or(0), 0);
    auto deadline = Clock::now() + std::chrono::seconds(timeout);
    while (true) {
      auto updates = take_updates(offset, limit);
      if (!updates.empty() || Clock::now() >= deadline || stopped) {
        ++get_updates_answered;
        co_return ok(std::move(updates));
      }
      net::steady_timer timer(io);
      timer.expires_at(deadline);
      Poller poller{&timer};
      pollers.push_back(&poller);
      notify();
      lock.unlock();
      co_await timer.async_wait(kTok);
      lock.lock();
      pollers.erase(std::find(pollers.begin(), pollers.end(), &poller));
      if (poller.outage) {
        ++outage_answered;
        co_return bad_gateway();
      }
      if (poller.terminated) co_return fail(409, kTerminated);
      if (!webhook_url.empty())
        co_return fail(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    }
  }

  net::awaitable<void> serve(tcp::socket socket) {
    sockets.insert(&socket);
    beast::flat_buffer buffer;
    while (true) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(256ull * 1024 * 1024);
      auto [ec, n] = co_await bhttp::async_read(socket, buffer, parser, kTok);
      if (ec) break;
      auto req = parser.release();
      auto [status, body] = co_await handle(req);
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), req.version()};
      res.set(bhttp::field::server, "fake-telegram-bot-api");
      res.set(bhttp::field::content_type, body.starts_with("<html>") ? "text/html" : "application/json");
      res.keep_alive(req.keep_alive());
      res.body() = std::move(body);
      res.prepare_payload();
      auto [wec, wn] = co_await bhttp::async_write(socket, res, kTok);
      if (wec || !req.keep_alive()) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    sockets.erase(&socket);
  }

  net::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, socket] = co_await acceptor.async_accept(kTok);
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      net::co_spawn(io, serve(std::move(socket)), net::detached);
    }
  }
};

FakeBotApi::FakeBotApi(FakeBotApiOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->spec = load_spec(impl_->options.spec_path.empty() ? default_spec_path() : impl_->options.spec_path);
  impl_->limits = impl_->options.rate_limits;
  const auto address = net::ip::make_address(impl_->options.bind_address);
  impl_->host = address.is_unspecified() ? "127.0.0.1"
                : address.is_v6()        ? "[" + impl_->options.bind_address + "]"
                                         : impl_->options.bind_address;
  tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(net::socket_base::max_listen_connections);
  impl_->port = impl_->acceptor.local_endpoint().port();
  auto* impl = impl_.get();
  net::co_spawn(impl->io, impl->accept_loop(), net::detached);
  impl->thread = std::thread([impl] { impl->io.run(); });
}

FakeBotApi::~FakeBotApi() { stop(); }

void FakeBotApi::stop() {
  if (impl_->stopped) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopped = true;
  }
  auto* impl = impl_.get();
  std::promise<void> closed;
  net::post(impl->io, [impl, &closed] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    for (auto* s : impl->sockets) {
      s->shutdown(tcp::socket::shutdown_both, ignored);
      s->close(ignored);
    }
    std::lock_guard lock(impl->mutex);
    for (auto* p : impl->pollers) p->timer->cancel();
    closed.set_value();
  });
  // Bounded: if the server thread has already left run(), nothing runs the posted handler.
  closed.get_future().wait_for(std::chrono::seconds(10));
  impl->io.stop();
  impl->thread.join();
}

std::string FakeBotApi::base_url() const { return "http://" + impl_->host + ":" + std::to_string(impl_->port); }
const std::string& FakeBotApi::token() const { return impl_->options.token; }
const FakeTgUser& FakeBotApi::bot() const { return impl_->options.bot; }

namespace {

json::object other_content_json(const std::string& kind, std::int64_t n) {
  auto id = kind + "-in-" + std::to_string(n);
  if (kind == "sticker")
    return {{"file_id", id}, {"file_unique_id", "u" + id}, {"type", "regular"}, {"width", 512}, {"height", 512},
            {"is_animated", false}, {"is_video", false}, {"emoji", "\xF0\x9F\x98\x80"}};
  if (kind == "voice") return {{"file_id", id}, {"file_unique_id", "u" + id}, {"duration", 2}, {"mime_type", "audio/ogg"}};
  if (kind == "video" || kind == "animation")
    return {{"file_id", id}, {"file_unique_id", "u" + id}, {"width", 640}, {"height", 360}, {"duration", 3}};
  if (kind == "video_note") return {{"file_id", id}, {"file_unique_id", "u" + id}, {"length", 240}, {"duration", 3}};
  if (kind == "audio") return {{"file_id", id}, {"file_unique_id", "u" + id}, {"duration", 120}};
  if (kind == "location") return {{"latitude", 52.52}, {"longitude", 13.405}};
  if (kind == "contact") return {{"phone_number", "+10000000000"}, {"first_name", "Contact"}};
  if (kind == "poll")
    return {{"id", "poll-" + std::to_string(n)}, {"question", "?"},
            {"options", json::array{json::object{{"text", "a"}, {"voter_count", 0}}, json::object{{"text", "b"}, {"voter_count", 0}}}},
            {"total_voter_count", 0}, {"is_closed", false}, {"is_anonymous", true}, {"type", "regular"},
            {"allows_multiple_answers", false}};
  if (kind == "dice") return {{"emoji", "\xF0\x9F\x8E\xB2"}, {"value", 3}};
  if (kind == "document") return {{"file_id", id}, {"file_unique_id", "u" + id}, {"file_name", "file.pdf"}, {"mime_type", "application/pdf"}};
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
    if (text[i] == '@' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\n') && !(i > 0 && text[0] == '/' && i < word_end(0))) {
      auto end = word_end(i);
      if (end - i > 1)
        out.push_back(json::object{{"type", "mention"}, {"offset", utf16_length(text.substr(0, i))},
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
  json::object mj{{"message_id", id}, {"from", Impl::user_json(in.from)}, {"chat", impl_->chat_json(c)}, {"date", Impl::unix_now()}};
  auto entities = in.entities ? *in.entities : compute_entities(in.text);
  bool media = !in.other_content.empty();
  if (media) {
    if (in.other_content == "photo") {
      auto fid = "photo-in-" + std::to_string(impl_->next_other++);
      mj["photo"] = json::array{json::object{{"file_id", fid}, {"file_unique_id", "u" + fid}, {"width", 800}, {"height", 600}}};
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
  FakeTgMessage m{.chat_id = c.chat.id, .message_id = id, .from_bot = false, .from_user_id = in.from.id,
                  .text = media ? "" : in.text, .caption = media ? in.text : "", .kind = media ? in.other_content : "text"};
  c.messages[id] = m;
  c.message_json[id] = mj;
  std::string line = "> " + in.from.first_name;
  if (in.edit_of) line += " edited #" + std::to_string(id);
  if (in.reply_to) line += " (reply to #" + std::to_string(*in.reply_to) + ")";
  line += ": ";
  if (media) line += "[" + in.other_content + "]" + (in.text.empty() ? "" : " " + Impl::indent_text(in.text));
  else line += Impl::indent_text(in.text);
  c.transcript.push_back(line);
  return impl_->enqueue(json::object{{in.edit_of ? "edited_message" : "message", mj}});
}

std::int64_t FakeBotApi::push_callback(FakeTgPushCallback in) {
  std::lock_guard lock(impl_->mutex);
  auto chat_id = in.chat_id.value_or(in.from.id);
  auto& c = in.chat_id && impl_->chats.contains(*in.chat_id) ? impl_->chats[*in.chat_id] : impl_->chat_of(in.from, std::nullopt);
  auto id = "cbq-" + std::to_string(impl_->next_callback++);
  json::object q{{"id", id}, {"from", Impl::user_json(in.from)}, {"chat_instance", "ci" + std::to_string(chat_id)}, {"data", in.data}};
  auto mit = c.message_json.find(in.message_id);
  bool accessible = !in.inaccessible && mit != c.message_json.end() && !c.messages[in.message_id].deleted;
  if (accessible) q["message"] = mit->second;
  else q["message"] = json::object{{"chat", impl_->chat_json(c)}, {"message_id", in.message_id}, {"date", 0}};
  std::string label = in.data;
  if (accessible) {
    const auto& markup = c.messages[in.message_id].reply_markup;
    if (markup.is_object() && markup.as_object().contains("inline_keyboard"))
      for (const auto& row : markup.at("inline_keyboard").as_array())
        for (const auto& b : row.as_array())
          if (b.is_object() && str(b.as_object(), "callback_data") == in.data) label = str(b.as_object(), "text") + "|" + in.data;
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
  c.transcript.push_back("> " + in.from.first_name + " pre-checkout " + std::to_string(in.total_amount) + " " + in.currency + " " + in.invoice_payload);
  return impl_->enqueue(json::object{{"pre_checkout_query", json::object{{"id", id}, {"from", Impl::user_json(in.from)},
                                                                         {"currency", in.currency}, {"total_amount", in.total_amount},
                                                                         {"invoice_payload", in.invoice_payload}}}});
}

std::int64_t FakeBotApi::push_successful_payment(FakeTgPushPayment in) {
  std::lock_guard lock(impl_->mutex);
  auto& c = impl_->chat_of(in.from, in.chat);
  if (in.telegram_payment_charge_id.empty()) in.telegram_payment_charge_id = "charge-" + std::to_string(impl_->next_charge++);
  if (in.provider_payment_charge_id.empty()) in.provider_payment_charge_id = "";
  impl_->charges[in.telegram_payment_charge_id] = Impl::Charge{.user_id = in.from.id};
  json::object sp{{"currency", in.currency}, {"total_amount", in.total_amount}, {"invoice_payload", in.invoice_payload},
                  {"telegram_payment_charge_id", in.telegram_payment_charge_id},
                  {"provider_payment_charge_id", in.provider_payment_charge_id}};
  if (in.subscription_expiration_date) sp["subscription_expiration_date"] = *in.subscription_expiration_date;
  if (in.is_recurring) sp["is_recurring"] = true;
  if (in.is_first_recurring) sp["is_first_recurring"] = true;
  auto id = c.next_message_id++;
  json::object mj{{"message_id", id}, {"from", Impl::user_json(in.from)}, {"chat", impl_->chat_json(c)},
                  {"date", Impl::unix_now()}, {"successful_payment", sp}};
  c.messages[id] = FakeTgMessage{.chat_id = c.chat.id, .message_id = id, .from_user_id = in.from.id, .kind = "successful_payment"};
  c.message_json[id] = mj;
  c.transcript.push_back("> " + in.from.first_name + " paid " + std::to_string(in.total_amount) + " " + in.currency + " " +
                         in.invoice_payload + " (" + in.telegram_payment_charge_id + ")");
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
  return impl_->enqueue(json::object{{"my_chat_member", json::object{{"chat", impl_->chat_json(c)}, {"from", Impl::user_json(in.from)},
                                                                     {"date", Impl::unix_now()},
                                                                     {"old_chat_member", member(in.old_status)},
                                                                     {"new_chat_member", member(in.new_status)}}}});
}

std::int64_t FakeBotApi::push_raw(json::object update) {
  std::lock_guard lock(impl_->mutex);
  update.erase("update_id");
  return impl_->enqueue(std::move(update));
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

namespace {

int post_json(const std::string& url, const std::string& body, const std::optional<std::string>& secret) {
  if (!url.starts_with("http://")) throw std::logic_error("FakeBotApi: only http:// webhooks are delivered");
  auto rest = url.substr(7);
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  auto target = slash == std::string::npos ? std::string("/") : rest.substr(slash);
  auto colon = hostport.rfind(':');
  auto host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  auto port = colon == std::string::npos ? std::string("80") : hostport.substr(colon + 1);
  net::io_context io;
  int status = 0;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        tcp::resolver resolver(io);
        auto [rec, results] = co_await resolver.async_resolve(host, port, kTok);
        if (rec) co_return;
        beast::tcp_stream stream(io);
        stream.expires_after(std::chrono::seconds(30));
        auto [cec, ep] = co_await stream.async_connect(results, kTok);
        if (cec) co_return;
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
        req.set(bhttp::field::host, hostport);
        req.set(bhttp::field::content_type, "application/json");
        if (secret) req.set("X-Telegram-Bot-Api-Secret-Token", *secret);
        req.body() = body;
        req.prepare_payload();
        auto [wec, wn] = co_await bhttp::async_write(stream, req, kTok);
        if (wec) co_return;
        beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> res;
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, res, kTok);
        if (!ec) status = static_cast<int>(res.result_int());
      },
      net::detached);
  io.run();
  return status;
}

}  // namespace

int FakeBotApi::deliver_webhook(std::int64_t update_id) {
  std::string url, secret, body;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->webhook_url.empty()) throw std::logic_error("FakeBotApi::deliver_webhook: no webhook is set");
    auto it = std::find_if(impl_->pending.begin(), impl_->pending.end(),
                           [&](const json::object& u) { return u.at("update_id").as_int64() == update_id; });
    if (it == impl_->pending.end()) throw std::logic_error("FakeBotApi::deliver_webhook: update is not pending");
    url = impl_->webhook_url;
    secret = impl_->webhook_secret;
    body = json::serialize(*it);
  }
  int status = post_json(url, body, secret.empty() ? std::nullopt : std::optional<std::string>(secret));
  if (status >= 200 && status < 300) {
    std::lock_guard lock(impl_->mutex);
    auto& p = impl_->pending;
    p.erase(std::remove_if(p.begin(), p.end(), [&](const json::object& u) { return u.at("update_id").as_int64() == update_id; }),
            p.end());
    impl_->notify();
  }
  return status;
}

int FakeBotApi::deliver_webhook_raw(const std::string& body, std::optional<std::string> secret) {
  std::string url;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->webhook_url.empty()) throw std::logic_error("FakeBotApi::deliver_webhook_raw: no webhook is set");
    url = impl_->webhook_url;
  }
  return post_json(url, body, secret);
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
  return static_cast<std::size_t>(std::count_if(impl_->calls.begin(), impl_->calls.end(),
                                                [&](const FakeTgCall& c) { return c.method == method; }));
}

std::vector<FakeSpecViolation> FakeBotApi::spec_violations() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->violations;
}

bool FakeBotApi::wait_until(const std::function<bool()>& pred, std::chrono::milliseconds guard) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, guard, pred);
}

std::string FakeBotApi::transcript(std::int64_t chat_id) const {
  std::lock_guard lock(impl_->mutex);
  std::string out;
  if (auto it = impl_->chats.find(chat_id); it != impl_->chats.end())
    for (const auto& line : it->second.transcript) out += line + "\n";
  return out;
}

}  // namespace igb::testing
