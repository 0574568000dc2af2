// POST /v1/generate, GET /v1/status/{job_id}, GET /v1/status/{job_id}/events
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "api/auth.hpp"
#include "api/errors.hpp"
#include "api/metrics.hpp"
#include "api/requests.hpp"
#include "api/routes/routes.hpp"
#include "api/views.hpp"
#include "core/dimensions.hpp"

namespace igb::api {
namespace {

namespace json = boost::json;
namespace net = boost::asio;

int clamp_int(std::int64_t v) { return static_cast<int>(std::clamp<std::int64_t>(v, INT32_MIN, INT32_MAX)); }

net::awaitable<server::Response> generate(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  auto parsed = read_body(req, generate_request());
  if (!parsed) co_return std::move(parsed).error();
  auto& in = parsed.value();
  core::SubmitRequest r{.user = user->id, .source = "api"};
  auto prompt = in.string("prompt");
  r.params.prompt = prompt.value_or("");
  auto width = in.integer("width");
  auto height = in.integer("height");
  auto steps = in.integer("steps");
  auto seed = in.integer("seed");
  auto n = in.integer("n");
  auto style = in.string("style");
  auto aspect = in.string("aspect_ratio");
  if (steps) r.params.steps = clamp_int(*steps);
  r.params.seed = seed;
  r.params.style = style.value_or("");
  r.count = n ? clamp_int(*n) : 1;
  if (auto key = req.header("Idempotency-Key"); !key.empty()) r.idempotency_key = std::string(key);
  if (aspect && (width || height)) {
    in.add({"aspect_ratio", "give either aspect_ratio or width and height", "value_error.conflict"});
  } else if (aspect) {
    auto ratio = core::parse_aspect_ratio(*aspect);
    if (!ratio) {
      in.add({"aspect_ratio", "must look like 16:9 (each side 1 to 21, at most 4:1)", "value_error.format"});
    } else {
      auto d = co_await ctx->generation.fit(user->id, *ratio);
      r.params.width = d.width;
      r.params.height = d.height;
    }
  } else {
    if (width) r.params.width = clamp_int(*width);
    if (height) r.params.height = clamp_int(*height);
  }
  if (auto errors = in.errors(); !errors.empty()) co_return validation_error(errors);

  auto submitted = co_await ctx->generation.submit(r);
  if (!submitted) {
    const auto& e = submitted.error();
    if (e.code == core::ErrorCode::quota_exhausted) {
      json::array upgrades;
      for (const auto& p : ctx->plans.paid()) upgrades.push_back(plan_json(p));
      co_return error_response(e, "\"plans\":" + json::serialize(upgrades));
    }
    if (e.code == core::ErrorCode::too_many_failures) {
      // The limit by name, with the counts and when the period (and so the refusal) ends.
      auto q = co_await ctx->generation.quota(user->id);
      json::object limit{{"name", "failed_attempts_per_period"},
                         {"value", q.failed_limit},
                         {"failed", q.failed},
                         {"resets_at", iso8601(q.resets_at)}};
      co_return error_response(e, "\"limit\":" + json::serialize(limit));
    }
    if (e.code == core::ErrorCode::spend_paused || e.code == core::ErrorCode::free_paused) {
      // Which of the two service-wide brakes on free plans, and when it lifts (00:00 UTC). The
      // operator's figures (images, dollars) stay private.
      const auto resets = ctx->clock.now() + e.retry_after.value_or(core::Millis(0));
      const std::string name = e.code == core::ErrorCode::spend_paused ? "daily_spend_limit" : "free_daily_images";
      json::object limit{{"name", name}, {"resets_at", iso8601(resets)}};
      co_return error_response(
          e, "\"reason\":\"" + std::string(core::to_string(e.code)) + "\",\"limit\":" + json::serialize(limit));
    }
    co_return error_response(e);
  }
  if (!submitted->replayed && ctx->job_queued) ctx->job_queued();
  json::array ids;
  for (const auto& j : submitted->jobs) ids.emplace_back(j.id);
  const auto& first = submitted->jobs.front().id;
  json::object body{{"job_id", first},
                    {"job_ids", std::move(ids)},
                    {"status_url", status_url(ctx->options, first)},
                    {"quota", quota_json(submitted->quota)}};
  auto res = server::Response::json(202, json::serialize(body));
  res.headers.emplace_back("Location", status_url(ctx->options, first));
  if (submitted->replayed) res.headers.emplace_back("Idempotent-Replayed", "true");
  co_return res;
}

net::awaitable<server::Response> status(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  const auto& job_id = req.params.at("job_id");
  const auto now = ctx->clock.now();
  if (auto cached = ctx->statuses->find(job_id, user->id, now))
    co_return server::Response::json(200, std::move(*cached));
  auto view = co_await ctx->generation.view(job_id, user->id);
  if (!view) co_return error_response(view.error());
  auto body = json::serialize(job_json(*view, ctx->options));
  const auto ttl = core::is_terminal(view->job.status) ? std::chrono::milliseconds(std::chrono::hours(1))
                                                       : ctx->options.status_cache_ttl;
  ctx->statuses->put(job_id, user->id, body, now + ttl);
  co_return server::Response::json(200, std::move(body));
}

// One event per change of state, progress or queue position, until the job ends. Woken by the job's
// changes (and, while it is queued, by any job's), not by polling; see ApiOptions::events_poll.
net::awaitable<void> stream_job(ApiContext* ctx, std::string job_id, core::UserId owner, server::EventStream& out) {
  using Clock = std::chrono::steady_clock;
  const auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  // Subscribed before the first read, so a change between a read and the next wait is not missed.
  std::vector<std::string> keys{job_id, std::string(runtime::ChangeFeed::kQueue)};
  auto watch = std::make_unique<runtime::ChangeFeed::Subscription>(*ctx->changes, executor, std::move(keys));
  bool watching_queue = true;
  std::string last;
  auto last_sent = Clock::now();
  while (true) {
    const auto read_at = Clock::now();
    auto view = co_await ctx->generation.view(job_id, owner);
    ctx->metrics.record_stream_read();
    if (!view) co_return;
    auto data = json::serialize(job_json(*view, ctx->options));
    if (data != last) {
      if (!co_await out.send("status", data)) co_return;
      last = std::move(data);
      last_sent = Clock::now();
    }
    if (core::is_terminal(view->job.status)) co_return;
    if (watching_queue && view->job.status != core::JobStatus::queued) {
      // Out of the queue: other jobs' changes no longer move anything shown. Read once more after
      // resubscribing, in case the job changed in between.
      keys = {job_id};
      watch = std::make_unique<runtime::ChangeFeed::Subscription>(*ctx->changes, executor, std::move(keys));
      watching_queue = false;
      continue;
    }
    // Wait for a change, sending a ping comment whenever the stream has been quiet for events_ping.
    while (true) {
      const auto until_ping = last_sent + ctx->options.events_ping - Clock::now();
      const auto fallback = read_at + ctx->options.events_fallback - Clock::now();
      if (co_await watch->wait(std::min(until_ping, fallback))) break;
      if (Clock::now() >= read_at + ctx->options.events_fallback) break;
      if (!co_await out.comment("ping")) co_return;
      last_sent = Clock::now();
    }
    // At most one read per events_poll, however busy the queue.
    if (const auto next = read_at + ctx->options.events_poll; Clock::now() < next) {
      timer.expires_at(next);
      co_await timer.async_wait(net::use_awaitable);
    }
  }
}

net::awaitable<server::Response> events(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  const auto job_id = req.params.at("job_id");
  auto view = co_await ctx->generation.view(job_id, user->id);
  if (!view) co_return error_response(view.error());
  auto [slot, refusal] = ctx->streams->take(user->id, ctx->options.events_per_user, ctx->options.events_per_process);
  if (!slot) {
    core::Error e =
        refusal == StreamSlots::Refusal::user_full
            ? core::make_error(core::ErrorCode::rate_limited,
                               "too many open status streams for this account (at most " +
                                   std::to_string(ctx->options.events_per_user) + ")")
            : core::make_error(core::ErrorCode::unavailable, "too many open status streams; try again shortly");
    e.retry_after = std::chrono::seconds(5);
    co_return error_response(e);
  }
  server::Response res;
  // The slot is held by the stream and given back when the response (and so the stream) ends.
  res.stream = [ctx, job_id, owner = user->id, slot = std::move(slot)](server::EventStream& out) {
    return stream_job(ctx, job_id, owner, out);
  };
  co_return res;
}

net::awaitable<server::Response> cancel(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  auto view = co_await ctx->generation.cancel_and_view(req.params.at("job_id"), user->id);
  ctx->statuses->erase(req.params.at("job_id"));
  if (!view) co_return error_response(view.error());
  co_return server::Response::json(200, json::serialize(job_json(*view, ctx->options)));
}

}  // namespace

void add_generation_routes(server::RouteTable& routes, ApiContext& ctx) {
  routes.add("POST", "/v1/generate", [&ctx](server::Request& r) { return generate(&ctx, r); },
             {.summary = "Queue an image generation",
              .operation_id = "generate",
              .tag = "generation",
              .auth = true,
              .request_schema = request_schema(generate_request()),
              .responses = {{202, "Queued: job_id, status_url and the quota after the reservation"},
                            {401, "Missing or wrong API key"},
                            {402, "No images left in this period; the plans one could move to"},
                            {415, "The body is not JSON"},
                            {422,
                             "Invalid fields, each as {loc, msg, type}; a prompt the content policy blocks is "
                             "the field prompt with type value_error.prompt_blocked (nothing is queued or charged; "
                             "it counts as a failed attempt)"},
                            {429, "Too many jobs in flight for the plan, or too many requests (Retry-After)"},
                            {503,
                             "Free generations are paused for the whole service until 00:00 UTC (Retry-After; "
                             "reason free_paused: FREE_DAILY_IMAGES, or spend_paused: the daily spending limit; "
                             "limit.resets_at); paid plans are not affected"}}});
  routes.add("GET", "/v1/status/{job_id}", [&ctx](server::Request& r) { return status(&ctx, r); },
             {.summary = "State, queue position, progress and result of a job",
              .operation_id = "getStatus",
              .tag = "generation",
              .auth = true,
              .responses = {{200, "The job"}, {401, "Missing or wrong API key"}, {404, "No such job (or not yours)"}},
              .response_schema = kJobSchemaRef});
  routes.add("POST", "/v1/jobs/{job_id}/cancel", [&ctx](server::Request& r) { return cancel(&ctx, r); },
             {.summary = "Cancel a queued or running job; its quota is given back",
              .operation_id = "cancelJob",
              .tag = "generation",
              .auth = true,
              .responses = {{200, "The canceled job"},
                            {401, "Missing or wrong API key"},
                            {404, "No such job (or not yours)"},
                            {409, "The job has already ended"}},
              .response_schema = kJobSchemaRef});
  routes.add("GET", "/v1/status/{job_id}/events", [&ctx](server::Request& r) { return events(&ctx, r); },
             {.summary = "Server-Sent Events: one `status` event per change until the job ends",
              .operation_id = "streamStatus",
              .tag = "generation",
              .auth = true,
              .responses = {{200, "text/event-stream of status events"}, {404, "No such job (or not yours)"}},
              .response_content_type = "text/event-stream"});
}

}  // namespace igb::api
