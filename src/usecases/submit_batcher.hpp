#pragma once
// Group commit of submissions, the API's POST /v1/generate and the bot's prompts alike. Submissions that arrive while a batch is being written wait for
// the next one, and each batch is one database transaction (JobService::submit_many): with SQLite's
// single writer, one transaction per request was the ceiling of the endpoint.
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "core/jobs.hpp"
#include "runtime/blocking_pool.hpp"

namespace igb::usecases {

class SubmitBatcher : public std::enable_shared_from_this<SubmitBatcher> {
 public:
  using Outcome = std::shared_ptr<core::Result<core::SubmitOutcome>>;

  SubmitBatcher(core::JobService& jobs, runtime::BlockingPool& pool, std::size_t max_batch = 64)
      : jobs_(jobs), pool_(pool), max_batch_(max_batch) {}

  // Resumes on the caller's executor with the request's outcome (or its batch's exception).
  boost::asio::awaitable<core::Result<core::SubmitOutcome>> submit(core::SubmitRequest request);

 private:
  struct Waiting {
    core::SubmitRequest request;
    std::function<void(std::exception_ptr, Outcome)> complete;
  };
  void enqueue(Waiting waiting);
  void drain();  // on a pool thread; one at a time

  core::JobService& jobs_;
  runtime::BlockingPool& pool_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::deque<Waiting> queue_;
  bool draining_ = false;
};

}  // namespace igb::usecases
