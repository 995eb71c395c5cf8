// Files served as they are, compiled into the binary so that an image needs
// nothing but the executable: the OpenAPI document and Swagger UI.
#pragma once

#include <string_view>

namespace users::api::assets {

std::string_view openapi_json();
std::string_view swagger_ui_js();
std::string_view swagger_ui_css();

}  // namespace users::api::assets
