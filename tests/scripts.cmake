# Checks written as scripts (deployment files, the container image, the
# browser). They test artefacts, not the C++ code, so the sanitizer build
# skips them. Exit code 77 means "could not run here" and is reported as
# skipped, never as passed.
option(USERS_API_SCRIPT_TESTS "Run the script-based checks" ON)
function(users_api_script_test name script)
  cmake_parse_arguments(ARG "" "TIMEOUT;LABEL" "ARGS" ${ARGN})
  add_test(NAME ${name} COMMAND bash "${PROJECT_SOURCE_DIR}/${script}" ${ARG_ARGS} WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT ${ARG_TIMEOUT} LABELS ${ARG_LABEL}
                       ENVIRONMENT "USERS_API_BINARY=$<TARGET_FILE:users-api>")
endfunction()
if(USERS_API_SCRIPT_TESTS)
  users_api_script_test(deploy.k8s tests/deploy/k8s/validate.sh TIMEOUT 600 LABEL deploy)
  users_api_script_test(deploy.ci tests/deploy/ci/validate.sh TIMEOUT 900 LABEL deploy)
  # Three parts, so that one whose tool is missing (terraform is in no registry
  # here) is skipped alone: fmt and plan need terraform, structure only Node.js.
  foreach(part fmt structure plan)
    users_api_script_test(deploy.terraform.${part} tests/deploy/terraform/validate.sh ARGS ${part} TIMEOUT 900
                          LABEL deploy)
  endforeach()
  users_api_script_test(openapi.document tests/openapi/check.sh TIMEOUT 600 LABEL openapi)
  users_api_script_test(metrics.promtool tests/metrics/check.sh TIMEOUT 900 LABEL metrics)
  users_api_script_test(browser.chromium tests/browser/check.sh TIMEOUT 900 LABEL browser)
  # 60 s of mixed load and hostile clients (make soak runs 600 s). Alone: it
  # keeps both cores busy, and tests beside it would slow its /healthz probes
  # and be slowed by it.
  users_api_script_test(soak.short tests/soak/check.sh TIMEOUT 300 LABEL soak)
  set_tests_properties(soak.short PROPERTIES RUN_SERIAL TRUE)

  # The container image, run for real with buildah/podman (no Docker engine
  # needed). The fixture image.build builds it once per ctest run from the
  # work tree (scripts/image/build.sh, localhost/users-api:dev), or takes
  # USERS_API_IMAGE as it is when that names an existing image; the checks
  # that need it then run against it, never rebuilding, one at a time (each
  # starts containers and publishes ports). If the build fails they are not
  # run. Select them all with `ctest --preset release -L image`.
  set(image_glue "${PROJECT_SOURCE_DIR}/tests/image/ctest_image.sh")
  add_test(NAME image.build COMMAND bash "${image_glue}" build WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
  set_tests_properties(image.build PROPERTIES FIXTURES_SETUP image RUN_SERIAL TRUE TIMEOUT 3600
                       SKIP_RETURN_CODE 77 LABELS image)
  function(users_api_image_test name script timeout)
    add_test(NAME ${name} COMMAND bash "${image_glue}" run ${script} WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED image RUN_SERIAL TRUE TIMEOUT ${timeout}
                         SKIP_RETURN_CODE 77 LABELS image)
  endfunction()
  users_api_image_test(image.container tests/image/image_test.sh 900)
  users_api_image_test(image.compose tests/image/compose_test.sh 1200)
  users_api_image_test(deploy.k8s_play tests/deploy/k8s/play.sh 600)
endif()
