#include "usecases/submit_batcher.hpp"

#include <vector>

namespace igb::usecases {

namespace net = boost::asio;

net::awaitable<core::Result<core::SubmitOutcome>> SubmitBatcher::submit(core::SubmitRequest request) {
  auto self = shared_from_this();
  auto initiate = [self, request = std::move(request)](auto handler) mutable {
    // The handler is move-only; a shared_ptr lets a std::function carry it to the pool thread, which
    // hands it back to the handler's own executor.
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    self->enqueue(Waiting{std::move(request), [h](std::exception_ptr e, Outcome outcome) {
                            auto ex = net::get_associated_executor(*h);
                            net::post(ex, [h, e, outcome]() { std::move (*h)(e, outcome); });
                          }});
  };
  Outcome outcome = co_await net::async_initiate<const net::use_awaitable_t<>&, void(std::exception_ptr, Outcome)>(
      initiate, net::use_awaitable);
  co_return std::move(*outcome);
}

void SubmitBatcher::enqueue(Waiting waiting) {
  bool start = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(waiting));
    if (!draining_) draining_ = start = true;
  }
  if (start) pool_.post([self = shared_from_this()] { self->drain(); });
}

void SubmitBatcher::drain() {
  while (true) {
    std::vector<Waiting> batch;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        draining_ = false;
        return;
      }
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<core::SubmitRequest> requests;
    requests.reserve(batch.size());
    for (auto& w : batch) requests.push_back(std::move(w.request));  // only the outcome goes back
    try {
      auto results = jobs_.submit_many(requests);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].complete(nullptr, std::make_shared<core::Result<core::SubmitOutcome>>(std::move(results[i])));
      }
    } catch (...) {
      for (auto& w : batch) w.complete(std::current_exception(), nullptr);
    }
  }
}

}  // namespace igb::usecases
