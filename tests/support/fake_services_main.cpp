// imggenbot-fakes: the test fakes of the outside world as one standalone program, for the container
// end-to-end test (tests/docker/e2e.sh), where the real Telegram and Hugging Face are out of reach.
//   --bind ADDR      listen address of both servers (default 127.0.0.1; 0.0.0.0 in a container)
//   --hf-port N      the fake Hugging Face provider, plus the control interface under /control/
//   --tg-port N      the fake Bot API (FakeBotApi: every call checked against the Bot API spec)
//   --token T        the bot token the fake Bot API accepts
//   --model M        the one model the provider serves (others: 404, as Hugging Face answers)
//   --spec PATH      the Bot API spec (botapi.json)
// Runs until SIGTERM or SIGINT, then stops both servers and exits 0.
//
// The provider speaks the hf-inference wire format, as the official client sends it
// (huggingface/huggingface_hub, src/huggingface_hub/inference/_providers/hf_inference.py):
// POST /hf-inference/models/<owner>/<name> with JSON {"inputs", "parameters"}; 200 answers the raw
// image bytes (a real PNG of the requested size, its pixels a function of the seed); errors are JSON
// {"error": …}. The same checks as tests/worker/worker_support.hpp's hf_provider.
//
// Control interface (on the provider's port; JSON in and out, sizes bounded):
//   POST /control/push_message {"user_id", "first_name", "text"}  → {"update_id"}   a user writes
//   POST /control/push_callback {"user_id", "first_name", "message_id", "data"}   a button press
//   POST /control/push_pre_checkout {"user_id", "first_name", "total_amount", "invoice_payload"}
//   POST /control/push_payment {"user_id", "first_name", "total_amount", "invoice_payload", "charge_id"}
//   GET  /control/last_call?method=NAME                            → {status, params, result}
//   GET  /control/transcript?chat=ID                               → text            what the chat saw
//   GET  /control/messages?chat=ID                                 → [{kind, text, caption, file_id}]
//   GET  /control/file?id=FILE_ID                                  → the uploaded bytes (404 if none)
//   GET  /control/calls?method=NAME                                → {"count"}       Bot API calls
//   GET  /control/spec_violations                                  → ["…"]
//   POST /control/hf {"delay_ms": N}                               → {}  answers of later generations
//                                                                       wait N ms (a slow model)
//   GET  /control/hf_calls                                         → [{"inputs", "seed", "authorized"}]
#include <boost/json.hpp>

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "support/test_image.hpp"
#include "support/fake_bot_api.hpp"
#include "support/fake_http_server.hpp"

namespace json = boost::json;
using namespace igb::testing;

namespace {

constexpr std::size_t kMaxControlBody = 64 * 1024;
constexpr int kMaxSide = 2048;  // a generous bound for the fake's PNGs

struct Options {
  std::string bind = "127.0.0.1";
  std::uint16_t hf_port = 0;
  std::uint16_t tg_port = 0;
  std::string token = FakeBotApiOptions{}.token;
  std::string model = "black-forest-labs/FLUX.1-schnell";
  std::string spec;
};

struct HfCallRecord {
  std::string inputs;
  std::int64_t seed = -1;
  bool authorized = false;
};

class Provider {
 public:
  explicit Provider(std::string model) : model_(std::move(model)) {}

  FakeResponse generate(const FakeRequest& r) {
    if (r.path() != "/hf-inference/models/" + model_) return FakeResponse::json(R"({"error":"Not Found"})", 404);
    if (r.method != "POST") return FakeResponse::json(R"({"error":"Method Not Allowed"})", 405);
    if (!r.header("Authorization").starts_with("Bearer hf_")) {
      return FakeResponse::json(R"({"error":"Invalid credentials in Authorization header"})", 401);
    }
    boost::system::error_code ec;
    auto doc = json::parse(r.body, ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("inputs") || !doc.at("inputs").is_string()) {
      return FakeResponse::json(R"({"error":"Input should be a valid string"})", 400);
    }
    HfCallRecord call{.inputs = std::string(doc.at("inputs").as_string()), .authorized = true};
    int width = 64, height = 64;
    if (const auto* p = doc.as_object().if_contains("parameters"); p && p->is_object()) {
      auto integer = [&](const char* key, std::int64_t fallback) {
        const auto* v = p->as_object().if_contains(key);
        return v && v->is_int64() ? v->as_int64() : fallback;
      };
      call.seed = integer("seed", -1);
      width = static_cast<int>(std::clamp<std::int64_t>(integer("width", 64), 1, kMaxSide));
      height = static_cast<int>(std::clamp<std::int64_t>(integer("height", 64), 1, kMaxSide));
    }
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(call);
      delay = delay_;
    }
    return FakeResponse{
        .status = 200,
        .headers = {{"Content-Type", "image/png"}},
        .body = igb::imaging::make_png(width, height, static_cast<std::uint32_t>(call.seed < 0 ? 0 : call.seed)),
        .delay = delay};
  }

  void set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
  }

  json::array calls() const {
    std::lock_guard lock(mutex_);
    json::array out;
    for (const auto& c : calls_)
      out.push_back(json::object{{"inputs", c.inputs}, {"seed", c.seed}, {"authorized", c.authorized}});
    return out;
  }

 private:
  std::string model_;
  mutable std::mutex mutex_;
  std::vector<HfCallRecord> calls_;
  std::chrono::milliseconds delay_{0};
};

std::string query_param(const FakeRequest& r, std::string_view name) {
  const std::string q = r.query();
  std::size_t pos = 0;
  while (pos <= q.size()) {
    auto end = q.find('&', pos);
    if (end == std::string::npos) end = q.size();
    std::string_view kv(q.data() + pos, end - pos);
    if (kv.starts_with(name) && kv.size() > name.size() && kv[name.size()] == '=') {
      return std::string(kv.substr(name.size() + 1));  // ids and method names: no percent-decoding needed
    }
    pos = end + 1;
  }
  return {};
}

std::int64_t chat_param(const FakeRequest& r) {
  const auto text = query_param(r, "chat");
  if (text.empty() || text.size() > 20) throw std::invalid_argument("chat: a chat id is required");
  return std::stoll(text);
}

json::object body_object(const FakeRequest& r) {
  if (r.body.size() > kMaxControlBody) throw std::invalid_argument("body too large");
  auto doc = json::parse(r.body);
  if (!doc.is_object()) throw std::invalid_argument("body: a JSON object is required");
  return doc.as_object();
}

FakeTgUser user_of(const json::object& o) {
  return {.id = o.at("user_id").to_number<std::int64_t>(), .first_name = std::string(o.at("first_name").as_string())};
}

FakeResponse control(const FakeRequest& r, FakeBotApi& tg, Provider& provider) {
  const auto path = r.path();
  try {
    if (path == "/control/push_message" && r.method == "POST") {
      auto o = body_object(r);
      FakeTgPushMessage m{.from = user_of(o), .text = std::string(o.at("text").as_string())};
      const auto id = tg.push_message(std::move(m));
      return FakeResponse::json(json::serialize(json::object{{"update_id", id}}));
    }
    if (path == "/control/push_callback" && r.method == "POST") {
      auto o = body_object(r);
      FakeTgPushCallback c{.from = user_of(o),
                           .message_id = o.at("message_id").to_number<std::int64_t>(),
                           .data = std::string(o.at("data").as_string())};
      return FakeResponse::json(json::serialize(json::object{{"update_id", tg.push_callback(std::move(c))}}));
    }
    if (path == "/control/push_pre_checkout" && r.method == "POST") {
      auto o = body_object(r);
      FakeTgPushPreCheckout q{.from = user_of(o),
                              .total_amount = o.at("total_amount").to_number<std::int64_t>(),
                              .invoice_payload = std::string(o.at("invoice_payload").as_string())};
      return FakeResponse::json(json::serialize(json::object{{"update_id", tg.push_pre_checkout(std::move(q))}}));
    }
    if (path == "/control/push_payment" && r.method == "POST") {
      auto o = body_object(r);
      FakeTgPushPayment p{.from = user_of(o),
                          .total_amount = o.at("total_amount").to_number<std::int64_t>(),
                          .invoice_payload = std::string(o.at("invoice_payload").as_string()),
                          .telegram_payment_charge_id = std::string(o.at("charge_id").as_string())};
      return FakeResponse::json(json::serialize(json::object{{"update_id", tg.push_successful_payment(std::move(p))}}));
    }
    if (path == "/control/last_call" && r.method == "GET") {
      auto calls = tg.calls(query_param(r, "method"));
      if (calls.empty()) return FakeResponse::json(R"({"error":"no such call"})", 404);
      return FakeResponse::json(json::serialize(json::object{
          {"status", calls.back().status}, {"params", calls.back().params}, {"result", calls.back().result}}));
    }
    if (path == "/control/transcript" && r.method == "GET") return FakeResponse::text(tg.transcript(chat_param(r)));
    if (path == "/control/messages" && r.method == "GET") {
      json::array out;
      for (const auto& m : tg.messages(chat_param(r))) {
        out.push_back(json::object{{"message_id", m.message_id},
                                   {"from_bot", m.from_bot},
                                   {"kind", m.kind},
                                   {"text", m.text},
                                   {"caption", m.caption},
                                   {"file_id", m.file_id},
                                   {"deleted", m.deleted}});
      }
      return FakeResponse::json(json::serialize(out));
    }
    if (path == "/control/file" && r.method == "GET") {
      const auto id = query_param(r, "id");
      auto bytes = tg.file_bytes(id);
      if (!bytes) return FakeResponse::json(R"({"error":"no such file"})", 404);
      return FakeResponse{.status = 200, .headers = {{"Content-Type", "application/octet-stream"}}, .body = *bytes};
    }
    if (path == "/control/calls" && r.method == "GET") {
      return FakeResponse::json(json::serialize(json::object{{"count", tg.count_calls(query_param(r, "method"))}}));
    }
    if (path == "/control/spec_violations" && r.method == "GET") {
      json::array out;
      for (const auto& v : tg.spec_violations()) out.push_back(json::string(v.message));
      return FakeResponse::json(json::serialize(out));
    }
    if (path == "/control/hf" && r.method == "POST") {
      auto o = body_object(r);
      const auto ms = o.at("delay_ms").to_number<std::int64_t>();
      if (ms < 0 || ms > 3'600'000) throw std::invalid_argument("delay_ms: 0 to 3600000");
      provider.set_delay(std::chrono::milliseconds(ms));
      return FakeResponse::json("{}");
    }
    if (path == "/control/hf_calls" && r.method == "GET") return FakeResponse::json(json::serialize(provider.calls()));
    return FakeResponse::json(R"({"error":"unknown control route"})", 404);
  } catch (const std::exception& e) {
    return FakeResponse::json(json::serialize(json::object{{"error", e.what()}}), 400);
  }
}

std::uint16_t port_arg(const std::string& text) {
  const int port = std::stoi(text);
  if (port < 0 || port > 65535) throw std::invalid_argument("port out of range: " + text);
  return static_cast<std::uint16_t>(port);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(arg + ": a value is required");
    const std::string value = argv[++i];
    if (arg == "--bind")
      o.bind = value;
    else if (arg == "--hf-port")
      o.hf_port = port_arg(value);
    else if (arg == "--tg-port")
      o.tg_port = port_arg(value);
    else if (arg == "--token")
      o.token = value;
    else if (arg == "--model")
      o.model = value;
    else if (arg == "--spec")
      o.spec = value;
    else
      throw std::invalid_argument("unknown option " + arg);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "imggenbot-fakes: " << e.what()
              << "\nusage: imggenbot-fakes [--bind ADDR] [--hf-port N] [--tg-port N] [--token T] [--model M] "
                 "[--spec botapi.json]\n";
    return 2;
  }
  // Blocked before any thread starts, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    FakeBotApi tg(FakeBotApiOptions{
        .token = options.token, .spec_path = options.spec, .bind_address = options.bind, .port = options.tg_port});
    Provider provider(options.model);
    FakeHttpServer hf(
        [&](const FakeRequest& r) {
          if (r.path().starts_with("/control/")) return control(r, tg, provider);
          return provider.generate(r);
        },
        FakeHttpServerOptions{.bind_address = options.bind, .port = options.hf_port});
    std::cerr << "imggenbot-fakes: Hugging Face provider and control on " << hf.base_url() << ", Bot API on "
              << tg.base_url() << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    std::cerr << "imggenbot-fakes: signal " << sig << ", stopping" << std::endl;
    hf.stop();
    tg.stop();
  } catch (const std::exception& e) {
    std::cerr << "imggenbot-fakes: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
