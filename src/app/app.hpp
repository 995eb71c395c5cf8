// Wiring and lifecycle: builds the storage, API and server from a Config,
// and runs them until a signal asks them to stop.
#pragma once

#include "config/config.hpp"

namespace users::app {

// Exit statuses: 0 done, 1 failed while running, 2 unusable configuration.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadConfig = 2;

int migrate(const config::Config& config);
int serve(const config::Config& config);
// GET `url`; 0 on a 200 answer within two seconds, 1 otherwise.
int healthcheck(const std::string& url);

}  // namespace users::app
