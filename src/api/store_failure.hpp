// The one place where a storage failure becomes what the client sees (and
// what the operator sees: the log line, with the request id, and the
// database-error counter). Every handler and presenter goes through it.
#pragma once

#include <string_view>

#include "api/outcome.hpp"
#include "observability/metrics.hpp"
#include "storage/user_store.hpp"

namespace users::api {

// Who to tell: the metrics (may be null) and the request's id for the log.
struct FailureSink {
  observability::Metrics* metrics = nullptr;
  std::string_view request_id;
};

// kNotFound: 404. kPreconditionFailed: 412 (If-Match). kBusy, kUnavailable: 503 with Retry-After. Anything else
// (kDniTaken where the caller did not expect it, kInternal): 500. The
// client never sees the store's detail; the log does.
Problem store_failure(const storage::StoreError& error, const FailureSink& sink);

inline constexpr std::string_view kNotFoundMessage = "Not found.";
inline constexpr std::string_view kPreconditionFailedMessage = "Precondition failed.";

}  // namespace users::api
