#include "api/access.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <vector>

#include "api/messages.hpp"
#include "api/request_origin.hpp"
#include "http/wire.hpp"

namespace users::api {
namespace bhttp = boost::beast::http;

namespace {

std::string_view header(const http::Request& request, bhttp::field field) {
  const auto value = request[field];
  return {value.data(), value.size()};
}

// Probes and scrapes come from the kubelet and Prometheus with whatever Host
// they like (a pod IP), and never echo it: ALLOWED_HOSTS does not apply.
bool is_operations(RouteKind kind) {
  return kind == RouteKind::kHealth || kind == RouteKind::kReady || kind == RouteKind::kMetrics;
}

// DRF's SAFE_METHODS need users:read; everything else changes users.
auth::Scopes scope_for(bhttp::verb method) {
  switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options: return auth::kRead;
    default: break;
  }
  return auth::kWrite;
}

Problem throttled(std::chrono::seconds wait) {
  Problem problem{Status::too_many_requests, throttled_message(wait)};
  problem.retry_after = static_cast<unsigned>(wait.count());
  return problem;
}

}  // namespace

bool is_guarded(RouteKind kind) {
  return kind == RouteKind::kRoot || kind == RouteKind::kUserList || kind == RouteKind::kUserItem;
}

Admission AccessControl::admit(const Route& route, const http::Request& request, http::RequestInfo info) const {
  Admission admission;
  if (options_.trusted_proxies.empty()) {
    admission.client = http::address_of_peer(info.peer);
  } else {
    std::vector<std::string_view> forwarded;
    const auto [first, last] = request.equal_range("X-Forwarded-For");
    for (auto line = first; line != last; ++line) forwarded.emplace_back(line->value().data(), line->value().size());
    admission.client = client_address(info.peer, forwarded, options_.trusted_proxies);
  }

  if (options_.allowed_hosts && !is_operations(route.kind) &&
      !options_.allowed_hosts->allows(header(request, bhttp::field::host))) {
    admission.refusal = Problem{Status::bad_request, std::string(kInvalidHostMessage)};
    return admission;
  }
  if (!is_guarded(route.kind)) return admission;

  const auto* spec = route_spec(route.kind);
  if (options_.origins.enabled()) {
    admission.preflight =
        cors::answer_preflight(options_.origins, spec->allow,
                               {std::string_view(request.method_string()), header(request, bhttp::field::origin),
                                header(request, bhttp::field::access_control_request_method),
                                header(request, bhttp::field::access_control_request_headers)});
    if (admission.preflight) return admission;
  }
  admission.refusal = authorize(request, info.peer, admission);
  return admission;
}

std::optional<Problem> AccessControl::authorize(const http::Request& request, std::string_view peer,
                                                Admission& admission) const {
  if (options_.authenticator != nullptr && scope_for(request.method()) == auth::kWrite) {
    // Forms are what another site can make a browser send without asking
    // (no preflight); with credentials in play, they must come from here.
    // (Reads are never refused, so their headers are not even looked up.)
    const std::string_view scheme = request_scheme(request, peer, options_.trusted_proxies);
    if (auto refused = cors::refuse_cross_site_form(
            options_.origins, {std::string_view(request.method_string()), header(request, bhttp::field::content_type),
                               header(request, bhttp::field::origin), header(request, bhttp::field::sec_fetch_site),
                               header(request, bhttp::field::host), scheme})) {
      return Problem{Status::forbidden, std::move(*refused)};
    }
  }

  std::optional<auth::Failure> failure;
  if (options_.authenticator != nullptr) {
    auto verified = options_.authenticator->authenticate(header(request, bhttp::field::authorization));
    if (verified) {
      admission.principal = std::move(*verified);
    } else {
      failure = verified.error();
    }
  }

  if (admission.principal) {
    if ((admission.principal->scopes & scope_for(request.method())) == 0) {
      return Problem{Status::forbidden, std::string(kNoPermissionMessage)};
    }
    if (options_.principal_throttle) {
      const auto verdict = options_.principal_throttle->check(admission.principal->name);
      if (!verdict.allowed) return throttled(verdict.retry_after);
    }
    return std::nullopt;
  }

  if (options_.anonymous_throttle) {
    const auto verdict = options_.anonymous_throttle->check(admission.client);
    if (!verdict.allowed) return throttled(verdict.retry_after);
  }
  if (!failure) return std::nullopt;  // AUTH_MODE=none
  Problem problem{Status::unauthorized, std::string(kNotProvidedMessage)};
  problem.challenge = options_.authenticator->challenge();
  if (*failure == auth::Failure::kInvalid) {
    problem.message = kInvalidTokenMessage;
    // simplejwt's own body for a JWT; DRF's TokenAuthentication's otherwise.
    problem.token_not_valid = options_.simplejwt_answers;
  }
  return problem;
}

void AccessControl::add_cors_headers(const Route& route, const http::Request& request, http::Message& message) const {
  if (!options_.origins.enabled() || !is_guarded(route.kind)) return;
  for (auto& added : cors::response_headers(options_.origins, header(request, bhttp::field::origin))) {
    message.set(added.name, added.value);
  }
}

}  // namespace users::api
