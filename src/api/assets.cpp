#include "api/assets.hpp"

extern "C" {
extern const char users_api_openapi_begin[];
extern const char users_api_openapi_end[];
extern const char users_api_swagger_js_begin[];
extern const char users_api_swagger_js_end[];
extern const char users_api_swagger_css_begin[];
extern const char users_api_swagger_css_end[];
}

namespace users::api::assets {
namespace {
std::string_view between(const char* begin, const char* end) {
  return {begin, static_cast<std::size_t>(end - begin)};
}
}  // namespace

std::string_view openapi_json() {
  return between(users_api_openapi_begin, users_api_openapi_end);
}
std::string_view swagger_ui_js() {
  return between(users_api_swagger_js_begin, users_api_swagger_js_end);
}
std::string_view swagger_ui_css() {
  return between(users_api_swagger_css_begin, users_api_swagger_css_end);
}

}  // namespace users::api::assets
