// What DRF (and Django, and djangorestframework-simplejwt) say when they
// refuse a request before any view runs, word for word: clients of the
// reference match on them.
#pragma once

#include <string_view>

namespace users::api {

// rest_framework.exceptions.NotAuthenticated
inline constexpr std::string_view kNotProvidedMessage = "Authentication credentials were not provided.";
// rest_framework.authentication.TokenAuthentication
inline constexpr std::string_view kInvalidTokenMessage = "Invalid token.";
// rest_framework.exceptions.PermissionDenied
inline constexpr std::string_view kNoPermissionMessage = "You do not have permission to perform this action.";
// django.core.exceptions.DisallowedHost, as this API words it in JSON
inline constexpr std::string_view kInvalidHostMessage = "Invalid host header.";
// rest_framework.exceptions.ServiceUnavailable
inline constexpr std::string_view kServiceUnavailableMessage = "Service temporarily unavailable, try again later.";

}  // namespace users::api
