#include "storage/postgres/pg_connection.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>

namespace igb::storage {
namespace {

struct ResultDeleter {
  void operator()(PGresult* res) const { PQclear(res); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

void drop_notice(void*, const char*) {}

void replace_all(std::string& s, std::string_view needle, std::string_view with) {
  if (needle.empty()) return;
  for (auto pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + with.size())) {
    s.replace(pos, needle.size(), with);
  }
}

// libpq messages end in a newline and may span lines ("…failed: Connection refused\n\tIs the
// server running…"); a log line wants one line.
std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  for (auto pos = s.find('\n'); pos != std::string::npos; pos = s.find('\n', pos)) {
    auto end = pos + 1;
    while (end < s.size() && s[end] == '\t') ++end;
    s.replace(pos, end - pos, " ");
  }
  return s;
}

// The password as written inside a postgres:// URI (it may be percent-encoded there, and libpq
// quotes undecodable URI parts in its errors).
std::string raw_uri_password(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto rest = url.substr(scheme + 3);
  auto at = rest.find_first_of("@/");
  if (at == std::string_view::npos || rest[at] != '@') return {};
  auto userinfo = rest.substr(0, at);
  auto colon = userinfo.find(':');
  return colon == std::string_view::npos ? std::string{} : std::string(userinfo.substr(colon + 1));
}

// PostgreSQL quotes the offending value in some errors (`invalid input syntax for type bigint:
// "…"`). Parameters may be secrets or user data, so their values never reach the message: long
// values are replaced wherever they appear, short ones only when quoted (replacing every "ab" in a
// message would garble it, and a two-letter value is not a secret worth that).
std::string scrub_params(std::string msg, std::span<const SqlParam> params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto* s = std::get_if<std::string>(&params[i]);
    if (!s || s->empty()) continue;
    auto placeholder = "$" + std::to_string(i + 1);
    if (s->size() >= 4) {
      replace_all(msg, *s, placeholder);
    } else {
      replace_all(msg, "\"" + *s + "\"", "\"" + placeholder + "\"");
    }
  }
  return msg;
}

bool is_busy_state(std::string_view state) {
  // serialization_failure, deadlock_detected, lock_not_available
  return state == "40001" || state == "40P01" || state == "55P03";
}

}  // namespace

void PgConnection::ConnDeleter::operator()(pg_conn* conn) const { PQfinish(conn); }

std::unique_ptr<PgConnection> PgConnection::open(const std::string& url) {
  // Parse first to learn the password, so it can be cut out of libpq's messages. A URL that does
  // not parse gets no detail at all: libpq quotes the malformed part, which may be the password.
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
  if (!options) {
    if (parse_error) PQfreemem(parse_error);
    throw DbError(DbError::Kind::connection,
                  "invalid PostgreSQL connection URL (details withheld: they could contain the password)");
  }
  std::string password;
  for (auto* o = options; o->keyword; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val) password = o->val;
  }
  PQconninfoFree(options);

  // Later entries override earlier ones, so a connect_timeout in the URL wins over ours; without
  // one libpq would wait for an unreachable host indefinitely.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "imggenbot", url.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn) throw DbError(DbError::Kind::connection, "cannot allocate a PostgreSQL connection");

  if (PQstatus(conn.get()) != CONNECTION_OK) {
    auto text = [](const char* s) { return std::string(s ? s : ""); };
    auto msg = one_line(text(PQerrorMessage(conn.get())));
    replace_all(msg, password, "***");
    replace_all(msg, raw_uri_password(url), "***");
    throw DbError(DbError::Kind::connection, "cannot connect to PostgreSQL at " + text(PQhost(conn.get())) + ":" +
                                                 text(PQport(conn.get())) + "/" + text(PQdb(conn.get())) + ": " + msg);
  }
  PQsetNoticeProcessor(conn.get(), drop_notice, nullptr);
  if (PQsetClientEncoding(conn.get(), "UTF8") != 0) {
    throw DbError(DbError::Kind::connection, "cannot set PostgreSQL client encoding to UTF8");
  }
  std::unique_ptr<PgConnection> self(new PgConnection(std::move(conn)));
  self->execute_script("SET client_min_messages = warning");
  return self;
}

bool PgConnection::healthy() const { return !broken_ && PQstatus(conn_.get()) == CONNECTION_OK; }

int PgConnection::socket() const { return PQsocket(conn_.get()); }

std::vector<PgConnection::Notification> PgConnection::take_notifications() {
  if (PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK) {
    broken_ = true;
    throw DbError(DbError::Kind::connection, "PostgreSQL: " + one_line(PQerrorMessage(conn_.get())));
  }
  std::vector<Notification> out;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    out.push_back({n->relname ? n->relname : "", n->extra ? n->extra : ""});
    PQfreemem(n);
  }
  return out;
}

void PgConnection::fail(const PGresult* res, std::span<const SqlParam> params) {
  auto kind = DbError::Kind::other;
  std::string state;
  if (const char* s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr) state = s;
  std::string msg;
  if (const char* m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr) {
    msg = m;
  } else if (res && *PQresultErrorMessage(res)) {
    msg = PQresultErrorMessage(res);
  } else if (res && PQresultStatus(res) != PGRES_FATAL_ERROR && PQresultStatus(res) != PGRES_NONFATAL_ERROR) {
    msg = std::string("unexpected result status ") + PQresStatus(PQresultStatus(res));
  } else {
    msg = PQerrorMessage(conn_.get());
  }

  // Class 08 (connection exception) and 57P (the server shutting down or starting: 57P01
  // admin_shutdown, 57P03 cannot_connect_now) end the session even where libpq has not yet seen the
  // socket close.
  if (PQstatus(conn_.get()) != CONNECTION_OK || state.starts_with("08") || state.starts_with("57P")) {
    broken_ = true;
    kind = DbError::Kind::connection;
  } else if (state == "23505") {
    kind = DbError::Kind::unique_violation;
  } else if (is_busy_state(state)) {
    kind = DbError::Kind::busy;
  }
  msg = scrub_params(one_line(std::move(msg)), params);
  if (!state.empty()) msg += " (SQLSTATE " + state + ")";
  throw DbError(kind, "PostgreSQL: " + msg);
}

void PgConnection::execute_script(std::string_view sql) {
  ResultPtr res(PQexec(conn_.get(), std::string(sql).c_str()));
  auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  // A script of only comments (an empty migration) is empty to the server, not an error.
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) fail(res.get(), {});
}

const std::string& PgConnection::prepare(const std::string& sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  auto name = "s" + std::to_string(next_statement_);
  ResultPtr res(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr));
  if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) fail(res.get(), {});
  ++next_statement_;
  return statements_.emplace(sql, std::move(name)).first->second;
}

QueryResult PgConnection::query(std::string_view sql_view, std::span<const SqlParam> params) {
  std::string sql(sql_view);
  const auto& name = prepare(sql);

  // The text of int64 params; reserved up front so earlier c_str() pointers stay valid.
  std::vector<std::string> ints;
  ints.reserve(params.size());
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    if (const auto* s = std::get_if<std::string>(&p)) {
      values.push_back(s->c_str());
    } else if (const auto* i = std::get_if<std::int64_t>(&p)) {
      values.push_back(ints.emplace_back(std::to_string(*i)).c_str());
    } else {
      values.push_back(nullptr);
    }
  }

  ResultPtr res(
      PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0));
  auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    // "cached plan must not change result type" after a schema change: forget the statement so the
    // next call prepares it afresh under a new name.
    const char* state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
    if (state && std::string_view(state) == "0A000") statements_.erase(sql);
    fail(res.get(), params);
  }

  QueryResult out;
  const int rows = PQntuples(res.get());
  const int cols = PQnfields(res.get());
  out.rows.reserve(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<std::size_t>(cols));
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(res.get(), r, c), static_cast<std::size_t>(PQgetlength(res.get(), r, c))));
      }
    }
    out.rows.emplace_back(std::move(row));
  }
  std::string_view affected = PQcmdTuples(res.get());
  if (!affected.empty()) std::from_chars(affected.data(), affected.data() + affected.size(), out.affected);
  return out;
}

}  // namespace igb::storage
