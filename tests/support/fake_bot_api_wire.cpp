// The fake Bot API on the wire: how a call is read (query, JSON, form, multipart), checked and
// answered, long polling, the HTTP server on loopback, and webhooks delivered to the bot.
#include "support/fake_bot_api_internal.hpp"
#include "support/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>

#include <algorithm>
#include <future>
#include <stdexcept>

namespace igb::testing {

namespace fake_tg {

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
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
      rethrow);
  io.run();
  return status;
}

}  // namespace fake_tg

// Returns an error answer, or nullopt when the params were decoded (violations are still checked
// by the caller).
std::optional<Answer> FakeBotApi::Impl::decode_params(const bhttp::request<bhttp::string_body>& req, Incoming& in,
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
        in.params[p.name] = json::object{
            {"upload", true}, {"filename", p.filename}, {"content_type", p.content_type}, {"size", p.data.size()}};
        in.uploads.push_back(FakeTgUpload{
            .field = p.name, .filename = p.filename, .content_type = p.content_type, .bytes = std::move(p.data)});
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

// ---- The server

net::awaitable<std::pair<int, std::string>> FakeBotApi::Impl::handle(const bhttp::request<bhttp::string_body>& req) {
  std::string target(req.target());
  std::string path = target.substr(0, target.find('?'));
  auto not_found = std::pair<int, std::string>(404, R"({"ok":false,"error_code":404,"description":"Not Found"})");
  if (!path.starts_with("/bot")) co_return not_found;
  auto slash = path.find('/', 4);
  if (slash == std::string::npos) co_return not_found;
  std::string token = path.substr(4, slash - 4);
  std::string method_name = path.substr(slash + 1);
  if (token != options.token)
    co_return std::pair<int, std::string>(401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})");

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

net::awaitable<Answer> FakeBotApi::Impl::get_updates(const json::object& p,
                                                     std::unique_lock<std::recursive_mutex>& lock) {
  const std::string kTerminated =
      "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
  for (auto it = failures.begin(); it != failures.end(); ++it) {
    if (!it->method.empty() && it->method != "getUpdates") continue;
    auto f = fail(it->code, it->description, it->retry_after);
    if (--it->times <= 0) failures.erase(it);
    co_return f;
  }
  if (!webhook_url.empty())
    co_return fail(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
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
      co_return fail(409,
                     "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                     "webhook first");
  }
}

net::awaitable<void> FakeBotApi::Impl::serve(tcp::socket socket) {
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

net::awaitable<void> FakeBotApi::Impl::accept_loop() {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(kTok);
    if (ec) {
      if (!acceptor.is_open()) co_return;
      continue;
    }
    net::co_spawn(io, serve(std::move(socket)), net::detached);
  }
}

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
    p.erase(std::remove_if(p.begin(), p.end(),
                           [&](const json::object& u) { return u.at("update_id").as_int64() == update_id; }),
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

}  // namespace igb::testing
