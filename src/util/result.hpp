#pragma once
// A value or an error: the one "value or failure" shape of the tree. core::Result<T> is
// Result<T, core::Error>, telegram::ApiResult<T> is Result<T, telegram::ApiError>, and the API's
// body readers return Result<T, server::Response> (the answer to give instead).
//
// Why not a library type: std::expected is C++23 (GCC 12's <expected> is there only with
// -std=c++23), and boost::system::result (Boost 1.81) is not [[nodiscard]], and its value() on an
// error wants E to be an error_code or exception_ptr (or an ADL throw_exception_from_error): our
// errors are plain structs. This type is [[nodiscard]], so every function returning it is too.
#include <utility>
#include <variant>

namespace igb::util {

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  E& error() & { return std::get<1>(v_); }
  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

}  // namespace igb::util
