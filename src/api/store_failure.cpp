#include "api/store_failure.hpp"

#include "api/messages.hpp"
#include "observability/log.hpp"

namespace users::api {
using storage::StoreError;

Problem store_failure(const StoreError& error, const FailureSink& sink) {
  switch (error.kind) {
    case StoreError::Kind::kNotFound: return Problem{Status::not_found, std::string(kNotFoundMessage)};
    case StoreError::Kind::kPreconditionFailed:
      return Problem{Status::precondition_failed, std::string(kPreconditionFailedMessage)};
    case StoreError::Kind::kBusy:
    case StoreError::Kind::kUnavailable: {
      const bool busy = error.kind == StoreError::Kind::kBusy;
      if (sink.metrics != nullptr) sink.metrics->count_database_error(busy ? "busy" : "unavailable");
      observability::log_warning("database unavailable", {{"detail", error.detail}, {"request_id", sink.request_id}});
      return Problem{Status::service_unavailable, std::string(kServiceUnavailableMessage), false, 1};
    }
    case StoreError::Kind::kDniTaken:
    case StoreError::Kind::kInternal: break;
  }
  if (sink.metrics != nullptr) sink.metrics->count_database_error("internal");
  observability::log_error("database error", {{"detail", error.detail}, {"request_id", sink.request_id}});
  return Problem{Status::internal_server_error, "A server error occurred."};
}

}  // namespace users::api
