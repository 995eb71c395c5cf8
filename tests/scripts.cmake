# Checks written as scripts (deployment files, the container image, the
# browser). They test artefacts, not the C++ code, so the sanitizer build
# skips them. Exit code 77 means "could not run here" and is reported as
# skipped, never as passed.
option(USERS_API_SCRIPT_TESTS "Run the script-based checks" ON)
function(users_api_script_test name script)
  cmake_parse_arguments(ARG "" "TIMEOUT;LABEL" "" ${ARGN})
  add_test(NAME ${name} COMMAND bash "${PROJECT_SOURCE_DIR}/${script}" WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT ${ARG_TIMEOUT} LABELS ${ARG_LABEL}
                       ENVIRONMENT "USERS_API_BINARY=$<TARGET_FILE:users-api>")
endfunction()
if(USERS_API_SCRIPT_TESTS)
  users_api_script_test(deploy.k8s tests/deploy/k8s/validate.sh TIMEOUT 600 LABEL deploy)
  users_api_script_test(deploy.ci tests/deploy/ci/validate.sh TIMEOUT 900 LABEL deploy)
  users_api_script_test(deploy.terraform tests/deploy/terraform/validate.sh TIMEOUT 900 LABEL deploy)
  users_api_script_test(openapi.document tests/openapi/check.sh TIMEOUT 600 LABEL openapi)
  users_api_script_test(metrics.promtool tests/metrics/check.sh TIMEOUT 900 LABEL metrics)
  users_api_script_test(browser.chromium tests/browser/check.sh TIMEOUT 900 LABEL browser)
endif()
