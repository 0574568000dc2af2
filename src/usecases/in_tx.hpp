#pragma once
// The use cases' one way to touch the store (private to src/usecases): `fn(tx)` in one transaction,
// run on the blocking pool, the caller resumed on its own executor. A write transaction is committed
// when `fn` returns (unless it returns a failed Result); a read transaction, or one `fn` left by an
// exception, is rolled back when it closes, as before.
#include <boost/asio/awaitable.hpp>

#include <type_traits>

#include "core/store.hpp"
#include "runtime/blocking_pool.hpp"

namespace igb::usecases {

// The synchronous part, for a call that does more on the pool thread than one transaction (reading an
// image's bytes after the transaction that found it has closed, say).
template <class F, class R = std::invoke_result_t<F&, core::Tx&>>
R with_tx(core::Store& store, core::TxMode mode, F& fn) {
  auto tx = store.begin(mode);
  if constexpr (std::is_void_v<R>) {
    fn(*tx);
    if (mode == core::TxMode::write) tx->commit();
  } else {
    R r = fn(*tx);
    if constexpr (core::IsResult<R>::value) {
      if (!r.ok()) return r;
    }
    if (mode == core::TxMode::write) tx->commit();
    return r;
  }
}

// `fn` is taken by lvalue reference, as BlockingPool::run takes it: name the lambda before the
// co_await (GCC 12 destroys a non-trivial temporary made inside a co_await expression twice).
template <class F, class R = std::invoke_result_t<F&, core::Tx&>>
boost::asio::awaitable<R> in_tx(runtime::BlockingPool& pool, core::Store& store, core::TxMode mode, F& fn) {
  auto run = [&]() -> R { return with_tx(store, mode, fn); };
  if constexpr (std::is_void_v<R>) {
    co_await pool.run(run);
  } else {
    R r = co_await pool.run(run);
    co_return r;
  }
}

}  // namespace igb::usecases
