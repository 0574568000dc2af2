#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>
#include <unordered_map>

#include "storage/sql.hpp"

struct pg_conn;
struct pg_result;

namespace igb::storage {

// One blocking libpq connection. Each distinct SQL text is prepared once (as "s1", "s2", …) and then
// executed with text-format parameters; results come back as text. Not thread-safe: one user at a
// time, as handed out by the pool.
class PgConnection final : public Connection {
 public:
  // `url` is a libpq URI or keyword/value string. Error messages name host, port and database but
  // never the URL or its password.
  static std::unique_ptr<PgConnection> open(const std::string& url);

  Dialect dialect() const override { return Dialect::postgres; }
  void execute_script(std::string_view sql) override;
  using Connection::query;
  QueryResult query(std::string_view sql, std::span<const SqlParam> params) override;
  bool healthy() const override;

  // For a connection that LISTENs (asynchronous notification): the socket to wait on for reading,
  // and, once it is readable, the notifications that arrived. take_notifications() reads only what
  // the socket holds (libpq keeps it non-blocking), so it may run on an I/O thread; it throws
  // DbError(connection) when the connection is lost.
  struct Notification {
    std::string channel;
    std::string payload;
  };
  int socket() const;
  std::vector<Notification> take_notifications();

 private:
  struct ConnDeleter {
    void operator()(pg_conn* conn) const;
  };
  using ConnPtr = std::unique_ptr<pg_conn, ConnDeleter>;

  explicit PgConnection(ConnPtr conn) : conn_(std::move(conn)) {}
  const std::string& prepare(const std::string& sql);
  [[noreturn]] void fail(const pg_result* res, std::span<const SqlParam> params);

  ConnPtr conn_;
  bool broken_ = false;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>
      statements_;  // SQL text → prepared statement name
  std::size_t next_statement_ = 1;
};

}  // namespace igb::storage
