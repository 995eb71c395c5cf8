// Access settings -> the parts that enforce them: the authenticator of
// AUTH_MODE, and the API's host, origin, proxy and throttle checks. Every
// list is parsed here, before the listener opens, so a typo stops the start
// (exit 2) instead of leaving a hole.
#pragma once

#include <boost/system/result.hpp>
#include <memory>

#include "api/access.hpp"
#include "auth/authenticator.hpp"
#include "config/config.hpp"

namespace users::app {

struct AccessParts {
  std::unique_ptr<auth::Authenticator> authenticator;  // null for AUTH_MODE=none
  api::AccessOptions options;                          // points at `authenticator`
};

boost::system::result<AccessParts, config::ConfigError> make_access(const config::Access& access);

}  // namespace users::app
