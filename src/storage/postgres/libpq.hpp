// Thin RAII and error handling over libpq, private to the PostgreSQL backend.
#pragma once

#include <libpq-fe.h>

#include <boost/system/result.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/user_store.hpp"

namespace users::storage::postgres {

struct ConnFinish {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using ConnHandle = std::unique_ptr<PGconn, ConnFinish>;

struct ResultClear {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultHandle = std::unique_ptr<PGresult, ResultClear>;

// A failure from libpq or from the server, already classified. `message` is
// one line with no password in it.
struct PgError {
  StoreError::Kind kind = StoreError::Kind::kInternal;
  std::string sqlstate;  // empty for failures libpq found itself
  std::string message;

  [[nodiscard]] StoreError to_store_error() const { return StoreError{kind, message}; }
};

template <typename T>
using PgResult = boost::system::result<T, PgError>;

[[noreturn]] void throw_exception_from_error(const PgError& error, const boost::source_location& location);

// What a SQLSTATE means to a client. 23505 on the dni index is the contract's
// 400; a lost or refused connection, a timeout, a server shutting down, lack
// of resources, or a read-only server (a standby after a fail-over) are worth
// retrying (503); anything else is a bug (500).
StoreError::Kind classify_sqlstate(std::string_view sqlstate, std::string_view constraint);

// Everything a connection needs to know, shared by every connection of a
// store and never changed.
struct ConnectionSettings {
  std::string url;           // holds the password: never logged
  std::string redacted_url;  // for messages
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{5000};

  // A libpq or server message, on one line, with no trace of the password.
  [[nodiscard]] std::string clean(std::string_view message) const;
};

// The error a finished result carries, if any (`conn` tells a lost connection
// from a refused statement).
std::optional<PgError> result_error(const ConnectionSettings& settings, PGconn* conn, const PGresult* result);

}  // namespace users::storage::postgres
