#include "app/generation.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "gen/hf_backend.hpp"
#include "gen/hf_mapping.hpp"
#include "gen/openai_backend.hpp"
#include "gen/url_fetch.hpp"
#include "telegram/bot_api.hpp"

namespace igb::app {

namespace {

namespace net = boost::asio;

// A provider ran out of credits: every admin hears it in their private chat with the bot (the
// HfBackend calls this at most once an hour per provider). Bounded by the Bot API client's timeout.
net::awaitable<void> tell_admins(std::shared_ptr<telegram::BotApi> bot, std::vector<std::int64_t> admins,
                                 std::string backend, std::string provider, std::string detail) {
  const std::string text = "ImgGenBot: the Hugging Face provider \"" + provider + "\" (backend " + backend +
                           ") answered 402, out of credits; jobs fail over to the other providers meanwhile.\n" +
                           detail.substr(0, 500);
  for (auto id : admins) {
    telegram::SendMessage message{.chat_id = id, .text = text};  // named: GCC 12 frees an aggregate temporary twice
    auto sent = co_await bot->send_message(std::move(message));
    if (!sent) {
      spdlog::warn("billing alert to admin {} not sent: {} {}", id, telegram::to_string(sent.error().kind),
                   sent.error().description);
    }
  }
}

gen::BillingAlert billing_alert(const Services& s, http::Client& client, const std::string& backend) {
  const auto& c = s.config;
  if (c.telegram_bot_token.empty() || c.admin_telegram_ids.empty()) {
    return {};  // HfBackend logs every 402 at error level anyway
  }
  std::shared_ptr<telegram::BotApi> bot =
      telegram::make_http_bot_api(client, telegram::HttpBotApiOptions{.base_url = c.telegram_api_base,
                                                                      .token = c.telegram_bot_token.value(),
                                                                      .request_timeout = std::chrono::seconds(10)});
  return [bot, admins = c.admin_telegram_ids, backend](std::string provider, std::string detail) {
    return tell_admins(bot, admins, backend, std::move(provider), std::move(detail));
  };
}

using Caches = std::vector<std::pair<std::shared_ptr<gen::ProviderMappingCache>, std::string>>;

net::awaitable<void> refresh_providers_loop(Caches caches) {
  // Once at start-up (ProviderMappingCache logs what it resolved), then every refresh period.
  for (auto& [cache, model] : caches) (void)co_await cache->providers(model);
  for (;;) {
    const auto period = caches.front().first->options().refresh;
    net::steady_timer timer(co_await net::this_coro::executor, period);
    co_await timer.async_wait(net::use_awaitable);
    std::set<gen::ProviderMappingCache*> done;  // backends that share a token share a cache
    for (auto& [cache, model] : caches)
      if (done.insert(cache.get()).second) co_await cache->refresh_all();
  }
}

}  // namespace

GenerationStack build_generation(const Services& s, const boost::asio::any_io_executor& executor) {
  GenerationStack g;
  g.http = http::make_client(executor);
  g.router = std::make_unique<gen::Router>(s.clock);
  g.images = imaging::make_file_image_store(s.config.data_dir);

  // Shared by every "hf" backend: one provider mapping cache per Hub and token, one URL fetcher.
  std::map<std::string, std::shared_ptr<gen::ProviderMappingCache>> mappings;
  std::shared_ptr<gen::UrlFetcher> urls;
  const auto pinned = gen::parse_provider_list(s.config.hf_provider);
  if (s.config.provider_urls_allow_private) {
    spdlog::warn(
        "PROVIDER_URLS_ALLOW_PRIVATE=1: provider image URLs may be http:// and on private addresses (tests only)");
  }

  Caches caches;
  for (const auto& b : s.config.backends) {
    const auto timeout = std::chrono::milliseconds(std::chrono::seconds(b.timeout_seconds));
    if (b.kind == "hf") {
      if (b.api_key.empty())
        spdlog::warn("backend {}: {} is not set; Hugging Face will refuse it", b.name, b.api_key_env);
      auto& mapping = mappings[b.api_key.value()];
      if (!mapping) {
        mapping = std::make_shared<gen::ProviderMappingCache>(
            *g.http, s.clock,
            gen::MappingCacheOptions{.hub = {.hub_base = s.config.hf_hub_base, .token = b.api_key.value()},
                                     .pinned = pinned});
      }
      caches.emplace_back(mapping, b.model);
      if (!urls) {
        urls = std::make_shared<gen::UrlFetcher>(
            executor, gen::UrlFetchOptions{.allow_private = s.config.provider_urls_allow_private});
      }
      spdlog::info("backend {}: Hugging Face {} via {}, providers {} (resolved from the Hub on first use)", b.name,
                   b.model, b.base_url, pinned.empty() ? std::string("auto") : s.config.hf_provider);
      g.router->add(
          std::make_unique<gen::HfBackend>(*g.http, gen::HfOptions{.name = b.name,
                                                                   .base_url = b.base_url,
                                                                   .model = b.model,
                                                                   .token = b.api_key.value(),
                                                                   .timeout = timeout,
                                                                   .mapping = mapping,
                                                                   .urls = urls,
                                                                   .clock = &s.clock,
                                                                   .on_billing = billing_alert(s, *g.http, b.name)}),
          {.concurrency = b.concurrency, .rate_per_minute = b.rate_per_minute});
    } else {
      g.router->add(std::make_unique<gen::OpenAiBackend>(*g.http, gen::OpenAiOptions{.name = b.name,
                                                                                     .base_url = b.base_url,
                                                                                     .model = b.model,
                                                                                     .api_key = b.api_key.value(),
                                                                                     .flavor = b.flavor,
                                                                                     .timeout = timeout}),
                    {.concurrency = b.concurrency, .rate_per_minute = b.rate_per_minute});
    }
  }
  if (!caches.empty()) {
    g.refresh_providers = [caches] { return refresh_providers_loop(caches); };
  }
  return g;
}

}  // namespace igb::app
