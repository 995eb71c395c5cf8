// Content negotiation as DRF does it for the two renderers users-api has:
// JSON (the default) and the browsable HTML page.
#pragma once

#include <string_view>

namespace users::api {

enum class Representation { kJson, kHtml };

// `?format=json` and `?format=api` win; then the Accept header: HTML only when
// the client prefers text/html at least as much as JSON (a browser does; curl's
// "*/*" does not).
Representation negotiate(std::string_view accept, std::string_view target);

}  // namespace users::api
