#include "storage/postgres/libpq.hpp"

#include <stdexcept>

#include "common/database_url.hpp"

namespace users::storage::postgres {

void throw_exception_from_error(const PgError& error, const boost::source_location& /*location*/) {
  throw std::runtime_error(error.message);
}

StoreError::Kind classify_sqlstate(std::string_view sqlstate, std::string_view constraint) {
  using Kind = StoreError::Kind;
  // A duplicate primary key means the id sequence lags behind rows inserted
  // by hand: not the client's dni, and not something a retry fixes.
  if (sqlstate == "23505") return constraint.ends_with("_pkey") ? Kind::kInternal : Kind::kDniTaken;
  if (sqlstate == "57014" || sqlstate.starts_with("08") || sqlstate.starts_with("57P0") || sqlstate.starts_with("53") ||
      sqlstate == "25006") {
    return Kind::kUnavailable;
  }
  return Kind::kInternal;
}

std::string ConnectionSettings::clean(std::string_view message) const {
  return common::one_line(common::scrub_secrets(message, url));
}

std::optional<PgError> result_error(const ConnectionSettings& settings, PGconn* conn, const PGresult* result) {
  if (result == nullptr) {
    return PgError{PQstatus(conn) == CONNECTION_BAD ? StoreError::Kind::kUnavailable : StoreError::Kind::kInternal, "",
                   settings.clean(PQerrorMessage(conn))};
  }
  const auto status = PQresultStatus(result);
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return std::nullopt;
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
  PgError error;
  error.sqlstate = sqlstate != nullptr ? sqlstate : "";
  error.message = settings.clean(PQresultErrorMessage(result));
  if (error.message.empty()) error.message = PQresStatus(status);
  if (sqlstate != nullptr) {
    error.kind = classify_sqlstate(error.sqlstate, constraint != nullptr ? constraint : "");
  } else {
    // libpq's own failure (the connection broke while reading, say).
    error.kind = PQstatus(conn) == CONNECTION_BAD ? StoreError::Kind::kUnavailable : StoreError::Kind::kInternal;
  }
  return error;
}

}  // namespace users::storage::postgres
