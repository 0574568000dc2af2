#include "usecases/generation.hpp"

#include "usecases/in_tx.hpp"

namespace igb::usecases {

Generation::Generation(GenerationDeps deps) : d_(std::move(deps)) {
  if (!d_.submits) d_.submits = std::make_shared<SubmitBatcher>(d_.jobs, d_.pool);
}

net::awaitable<core::Result<core::SubmitOutcome>> Generation::submit(core::SubmitRequest request) {
  if (auto allowed = co_await screen(request.user, request.params.prompt, request.policy); !allowed) {
    co_return std::move(allowed).error();
  }
  auto batcher = d_.submits;
  auto outcome = co_await batcher->submit(std::move(request));
  co_return outcome;
}

net::awaitable<core::Status> Generation::screen(core::UserId user, std::string prompt, core::PolicyLevel level) {
  auto hit = d_.jobs.screen(prompt, level);
  if (!hit) co_return core::Ok{};
  auto refuse = [&] { return d_.jobs.refuse_prompt(user, *hit); };
  core::Error refusal = co_await d_.pool.run(refuse);
  co_return refusal;
}

namespace {
std::string safe_mode_key(std::int64_t chat_id) { return "safe_mode:" + std::to_string(chat_id); }
}  // namespace

net::awaitable<bool> Generation::safe_mode(std::int64_t chat_id) {
  auto read = [key = safe_mode_key(chat_id)](core::Tx& tx) { return tx.get_setting(key) != "off"; };
  bool on = co_await in_tx(d_.pool, d_.store, core::TxMode::read, read);
  co_return on;
}

net::awaitable<void> Generation::set_safe_mode(std::int64_t chat_id, bool on) {
  auto write = [key = safe_mode_key(chat_id), on](core::Tx& tx) { tx.put_setting(key, on ? "on" : "off"); };
  co_await in_tx(d_.pool, d_.store, core::TxMode::write, write);
}

net::awaitable<core::QuotaStatus> Generation::quota(core::UserId user) {
  auto read = [this, user] { return d_.quota.status(user); };
  auto q = co_await d_.pool.run(read);
  co_return q;
}

net::awaitable<std::optional<core::SpendAlert>> Generation::claim_spend_alert() {
  auto claim = [this] { return d_.jobs.claim_spend_alert(); };
  auto alert = co_await d_.pool.run(claim);
  co_return alert;
}

net::awaitable<core::Dimensions> Generation::fit(core::UserId user, std::pair<int, int> ratio) {
  auto q = co_await quota(user);
  co_return core::fit_to_plan(ratio, q.plan);
}

net::awaitable<core::Result<core::Job>> Generation::job(std::string job_id, core::UserId owner) {
  auto read = [&] { return d_.jobs.get(job_id, owner); };
  auto job = co_await d_.pool.run(read);
  co_return job;
}

net::awaitable<core::Result<core::JobService::JobView>> Generation::view(std::string job_id, core::UserId owner) {
  auto read = [&] { return d_.jobs.view(job_id, owner); };
  auto view = co_await d_.pool.run(read);
  co_return view;
}

net::awaitable<core::Result<bool>> Generation::cancel(std::string job_id, core::UserId owner) {
  auto cancel = [&] { return d_.jobs.cancel(job_id, owner); };
  auto done = co_await d_.pool.run(cancel);
  co_return done;
}

net::awaitable<core::Result<core::JobService::JobView>> Generation::cancel_and_view(std::string job_id,
                                                                                    core::UserId owner) {
  auto cancel_and_read = [&]() -> core::Result<core::JobService::JobView> {
    if (auto charged = d_.jobs.cancel(job_id, owner); !charged) return std::move(charged).error();
    return d_.jobs.view(job_id, owner);
  };
  auto view = co_await d_.pool.run(cancel_and_read);
  co_return view;
}

net::awaitable<int> Generation::cancel_queued(core::UserId user, std::string source) {
  auto cancel_queued = [&] {
    auto read = [&](core::Tx& tx) { return tx.jobs_of(user, 50); };
    auto mine = with_tx(d_.store, core::TxMode::read, read);
    int n = 0;
    for (const auto& j : mine) {
      if (j.status == core::JobStatus::queued && j.source == source && d_.jobs.cancel(j.id, user).ok()) ++n;
    }
    return n;
  };
  int n = co_await d_.pool.run(cancel_queued);
  co_return n;
}

net::awaitable<std::vector<Generation::Made>> Generation::history(core::UserId user, int limit) {
  auto read = [&](core::Tx& tx) {
    std::vector<Made> out;
    for (auto& j : tx.jobs_of(user, 50)) {
      if (static_cast<int>(out.size()) >= limit) break;
      if (j.status != core::JobStatus::succeeded || !j.image_id) continue;
      auto image = tx.find_image(*j.image_id);
      if (image) out.push_back({std::move(j), std::move(*image)});
    }
    return out;
  };
  auto items = co_await in_tx(d_.pool, d_.store, core::TxMode::read, read);
  co_return items;
}

net::awaitable<std::optional<Generation::OwnImage>> Generation::own_image(std::string image_id, core::UserId owner,
                                                                          bool with_bytes) {
  auto load = [&]() -> std::optional<OwnImage> {
    auto find = [&](core::Tx& tx) -> std::optional<core::Image> {
      if (!tx.image_owned_by(image_id, owner)) return std::nullopt;
      return tx.find_image(image_id);
    };
    auto image = with_tx(d_.store, core::TxMode::read, find);
    if (!image) return std::nullopt;
    if (!with_bytes) return OwnImage{*image, {}};
    auto bytes = d_.images.read(*image);
    if (!bytes) return std::nullopt;
    return OwnImage{*image, std::move(*bytes)};
  };
  auto found = co_await d_.pool.run(load);
  co_return found;
}

net::awaitable<std::optional<core::Image>> Generation::image_of(core::Job job) {
  if (!job.image_id) co_return std::nullopt;
  auto find = [&](core::Tx& tx) { return tx.find_image(*job.image_id); };
  auto image = co_await in_tx(d_.pool, d_.store, core::TxMode::read, find);
  co_return image;
}

net::awaitable<std::optional<std::string>> Generation::image_bytes(core::Image image) {
  auto read = [&] { return d_.images.read(image); };
  auto bytes = co_await d_.pool.run(read);
  co_return bytes;
}

net::awaitable<int> Generation::queue_position(core::Job job) {
  auto position_of = [&] { return d_.jobs.queue_position(job); };
  int position = co_await d_.pool.run(position_of);
  co_return position;
}

net::awaitable<std::optional<core::Job>> Generation::find_job(std::string job_id) {
  auto find = [&](core::Tx& tx) { return tx.find_job(job_id, false); };
  auto job = co_await in_tx(d_.pool, d_.store, core::TxMode::read, find);
  co_return job;
}

net::awaitable<std::vector<std::pair<core::JobStatus, std::int64_t>>> Generation::counts() {
  auto count_jobs = [](core::Tx& tx) {
    std::vector<std::pair<core::JobStatus, std::int64_t>> out;
    for (auto st : {core::JobStatus::queued, core::JobStatus::running, core::JobStatus::succeeded,
                    core::JobStatus::failed, core::JobStatus::canceled}) {
      out.emplace_back(st, tx.count_jobs(st));
    }
    return out;
  };
  auto counts = co_await in_tx(d_.pool, d_.store, core::TxMode::read, count_jobs);
  co_return counts;
}

}  // namespace igb::usecases
