#pragma once
// The fake Bot API's own files share this header (not for tests): the spec and its checker
// (fake_bot_api_spec.cpp), the wire and the HTTP server (fake_bot_api_wire.cpp), what each method
// does to the fake's state (fake_bot_api_methods.cpp), the chat transcripts
// (fake_bot_api_transcript.cpp), and what tests call (fake_bot_api.cpp).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/fake_bot_api.hpp"

namespace igb::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace fake_tg {

inline constexpr auto kTok = net::as_tuple(net::use_awaitable);

// ---- The spec (fake_bot_api_spec.cpp)

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

std::string lower(std::string s);

std::vector<SpecField> read_fields(const json::value& v);

std::shared_ptr<const Spec> load_spec(const std::string& path);

std::string default_spec_path();

std::string join(const std::vector<std::string>& v, const std::string& sep);

// Checks parameters and their values against the spec; appends "path: problem" lines.
class Checker {
 public:
  Checker(const Spec& spec, bool reject_unknown) : spec_(spec), reject_unknown_(reject_unknown) {}

  // Checks `v` against one of `types`; appends "path: problem" lines to errors.
  void check_any(const std::vector<std::string>& types, const json::value& v, const std::string& path,
                 std::vector<std::string>& errors) const;

  void check_fields(const std::vector<SpecField>& fields, const json::object& o, const std::string& path,
                    std::vector<std::string>& errors) const;

 private:
  bool kind_matches(const std::string& t, const json::value& v) const;

  void check(const std::string& t, const json::value& v, const std::string& path,
             std::vector<std::string>& errors) const;

  const Spec& spec_;
  bool reject_unknown_;
};

// Form values are strings; the spec's types say what they mean.
json::value coerce(const std::vector<std::string>& types, const std::string& s);

// ---- The wire (fake_bot_api_wire.cpp)

std::string url_decode(std::string_view s);

void parse_form(std::string_view s, std::map<std::string, std::string>& out);

std::string header_param(std::string_view header, std::string_view name);

struct Part {
  std::string name;
  std::string filename;
  bool has_filename = false;
  std::string content_type;
  std::string data;
};

// Returns false for a malformed body.
bool parse_multipart(const std::string& body, const std::string& boundary, std::vector<Part>& parts);

int post_json(const std::string& url, const std::string& body, const std::optional<std::string>& secret);

// ---- Telegram's rules and answers (fake_bot_api_methods.cpp)

std::size_t utf16_length(std::string_view s);

// The text as Telegram counts it: HTML tags and entities removed for parse_mode HTML.
std::string visible_text(const std::string& text, const std::string& parse_mode);

bool blank(const std::string& s);

std::optional<std::pair<int, int>> png_size(const std::string& bytes);

std::string str(const json::object& o, const char* key);

std::optional<std::int64_t> int_of(const json::object& o, const char* key);

bool bool_of(const json::object& o, const char* key);

struct Answer {
  int status = 200;
  json::value result;
  std::string description;
  std::optional<int> retry_after;
  std::optional<std::int64_t> migrate_to_chat_id;
  bool front_page = false;  // answered by Telegram's front (an outage): nginx's HTML page, not the envelope
};

// What nginx in front of the Bot API answers while the servers behind it are down.
inline constexpr std::string_view kBadGatewayPage =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n";

Answer bad_gateway();

Answer ok(json::value result);
Answer fail(int status, std::string description, std::optional<int> retry_after = std::nullopt);

std::string envelope(const Answer& a);

inline const std::set<std::string> kDefaultExcludedUpdates = {"chat_member", "message_reaction",
                                                              "message_reaction_count"};

std::string update_type(const json::object& u);

}  // namespace fake_tg

// Only the fake's own files include this header.
using namespace fake_tg;

struct FakeBotApi::Impl {
  struct ChatState {
    FakeTgChat chat;
    FakeTgUser user;  // private chats: the user
    std::int64_t next_message_id = 1;
    std::map<std::int64_t, FakeTgMessage> messages;
    std::map<std::int64_t, json::object> message_json;
    std::vector<std::string> transcript;
    std::deque<Clock::time_point> sent;  // accepted rate-limited calls
    // Groups: who is in the chat, by user id, with their ChatMember status ("creator", "administrator",
    // "member", …). A user who writes in a group becomes a member; set_member_status changes it.
    std::map<std::int64_t, std::pair<FakeTgUser, std::string>> members;
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

  struct InlineQueryState {
    FakeTgUser from;
    std::string query;
    Clock::time_point pushed;
    bool answered = false;
    json::array results;  // as answered
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
  std::map<std::string, InlineQueryState> inline_queries;  // by query id
  std::map<std::string, FakeTgInlineMessage> inline_messages;
  std::map<std::int64_t, std::vector<std::string>> inline_transcripts;  // by user
  std::int64_t next_inline_query = 1, next_inline_message = 1;
  std::optional<FakeRateLimits> limits;
  std::deque<Clock::time_point> global_sent;
  std::int64_t rate_limited = 0;
  std::vector<ScriptedFailure> failures;
  std::map<std::int64_t, std::int64_t> migrated;  // group id → its supergroup's id
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

  void wake_pollers();

  // ---- JSON of users, chats, messages

  static json::object user_json(const FakeTgUser& u);
  json::object chat_json(const ChatState& c) const;
  ChatState& chat_of(const FakeTgUser& from, const std::optional<FakeTgChat>& chat);

  static std::int64_t unix_now();
  std::int64_t enqueue(json::object update);

  static std::string indent_text(const std::string& text);
  static void keyboard_lines(const json::value& markup, std::vector<std::string>& lines, bool say_none);

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
                                      const std::vector<SpecField>& fields);

  // ---- Rate limits

  // 0 when the call may pass now, else the seconds to wait.
  int rate_wait(ChatState* chat);

  // ---- Methods. Called with the mutex held.

  Answer check_markup(const json::object& p);
  static json::value markup_of(const json::object& p);

  std::optional<Answer> check_text(const std::string& text, const std::string& parse_mode, bool caption);
  std::optional<std::int64_t> reply_to_of(const json::object& p);

  FakeTgMessage& new_bot_message(ChatState& c, json::object& mj, const std::string& kind);
  std::string reply_suffix(const json::object& p);

  std::optional<Answer> check_reply(ChatState& c, const json::object& p, json::object& mj);
  Answer send_message(ChatState& c, const json::object& p);

  Answer send_file(ChatState& c, const std::string& method, const std::string& field, const json::object& p,
                   std::vector<FakeTgUpload>& uploads);
  Answer edit(ChatState& c, const std::string& method, const json::object& p);

  // Inline mode (fake_bot_api_inline.cpp)
  Answer answer_inline_query(const json::object& p);
  Answer edit_inline(const std::string& method, const json::object& p, const std::vector<FakeTgUpload>& uploads);
  // The user an inline call is about (its query's or its message's), for the inline transcript.
  std::optional<std::int64_t> inline_user_of(const json::object& p) const;

  Answer dispatch(const std::string& method, Incoming& in, FakeTgCall& call);
  void set_allowed(const json::array& a);
  bool is_allowed(const json::object& update) const;

  // Drops updates below offset and returns up to limit allowed ones (those not allowed are dropped
  // as Telegram does).
  json::array take_updates(std::optional<std::int64_t> offset, std::int64_t limit);
  void record(FakeTgCall call, const Answer& a);

  // ---- The server

  net::awaitable<std::pair<int, std::string>> handle(const bhttp::request<bhttp::string_body>& req);
  net::awaitable<Answer> get_updates(const json::object& p, std::unique_lock<std::recursive_mutex>& lock);

  net::awaitable<void> serve(tcp::socket socket);
  net::awaitable<void> accept_loop();
};

}  // namespace igb::testing
