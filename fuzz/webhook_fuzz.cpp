// The webhook: anyone can POST to /telegram/webhook. The harness calls the real route (as
// add_webhook_route registers it) over a real SQLite store: the secret-token check, the JSON parse
// and update decode, the insert into the inbox.
// Input: the X-Telegram-Bot-Api-Secret-Token value, a "\n--8<--\n" line, then the body.
// Oracles besides the sanitizers: 401 exactly when the token differs from the stored secret, else
// 200; a 200 for a body that decodes as an update stored exactly that body under its update_id
// (the harness then deletes the row, so the database stays small).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>

#include "bot/webhook.hpp"
#include "core/clock.hpp"
#include "fuzz_input.hpp"
#include "runtime/blocking_pool.hpp"
#include "storage/store.hpp"
#include "telegram/codec.hpp"

namespace net = boost::asio;
namespace srv = igb::server;

namespace {

constexpr std::string_view kSecret = "fuzzWebhookSecret0123456789abcdef";

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<igb::core::Store> store;
  igb::runtime::BlockingPool pool{1};
  igb::core::SystemClock clock;
  std::unique_ptr<igb::bot::WebhookContext> ctx;
  srv::RouteTable routes;
  const srv::Handler* handler = nullptr;
  int stored = 0;

  Fixture() {
    spdlog::set_level(spdlog::level::off);  // every dropped update logs an error line
    dir = igb::fuzz::scratch_dir("webhook");
    // The fixture lives to the end (the pool's thread), so its folder goes when the process exits.
    static std::string to_remove = dir.string();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    store = igb::storage::open_store({.database_url = "sqlite://" + (dir / "db.sqlite").string(), .pool_size = 1});
    auto tx = store->begin(igb::core::TxMode::write);
    tx->put_setting(igb::bot::kWebhookSecretKey, kSecret);
    tx->commit();
    ctx = std::make_unique<igb::bot::WebhookContext>(
        igb::bot::WebhookContext{.store = *store, .pool = pool, .clock = clock, .stored = [this] { ++stored; }});
    igb::bot::add_webhook_route(routes, *ctx);
    handler = routes.match("POST", igb::bot::kWebhookPath).handler;
    if (handler == nullptr) igb::fuzz::fail("no webhook route");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* fx = new Fixture();  // never destroyed: the pool's thread lives to the end
  auto parts = igb::fuzz::split_fields(igb::fuzz::as_view(data, size), 2);
  srv::Request req;
  req.method = "POST";
  req.target = req.path = std::string(igb::bot::kWebhookPath);
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", std::string(parts[0]));
  req.body = std::string(parts[1]);

  const int stored_before = fx->stored;
  net::io_context io;
  std::optional<srv::Response> res;
  net::co_spawn(io, (*fx->handler)(req), [&](std::exception_ptr e, srv::Response r) {
    if (e) igb::fuzz::fail("the webhook route threw");
    res = std::move(r);
  });
  io.run();
  IGB_FUZZ_CHECK(res.has_value());
  if (parts[0] != kSecret) {
    IGB_FUZZ_CHECK(res->status == 401);
    IGB_FUZZ_CHECK(fx->stored == stored_before);
    return 0;
  }
  IGB_FUZZ_CHECK(res->status == 200);

  boost::system::error_code ec;
  auto json = boost::json::parse(req.body, ec);
  if (ec) return 0;
  auto decoded = igb::telegram::decode_update(json);
  if (!decoded.ok()) {
    IGB_FUZZ_CHECK(fx->stored == stored_before);
    return 0;
  }
  IGB_FUZZ_CHECK(fx->stored == stored_before + 1);
  const auto id = decoded.value->update_id;
  if (id == std::numeric_limits<std::int64_t>::min()) return 0;
  auto tx = fx->store->begin(igb::core::TxMode::write);
  auto rows = tx->inbox_updates(id - 1, 1);
  IGB_FUZZ_CHECK(rows.size() == 1 && rows[0].update_id == id && rows[0].body == req.body);
  tx->delete_inbox_update(id);
  tx->commit();
  return 0;
}
