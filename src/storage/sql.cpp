#include "storage/sql.hpp"

#include <charconv>

namespace igb::storage {

const std::string& Row::text(std::size_t i) const {
  const auto& c = cols_.at(i);
  if (!c) throw DbError(DbError::Kind::other, "unexpected NULL in column " + std::to_string(i));
  return *c;
}

std::int64_t Row::i64(std::size_t i) const {
  const auto& s = text(i);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) {
    throw DbError(DbError::Kind::other, "column " + std::to_string(i) + " is not an integer");
  }
  return v;
}

std::optional<std::int64_t> Row::opt_i64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return i64(i);
}

}  // namespace igb::storage
