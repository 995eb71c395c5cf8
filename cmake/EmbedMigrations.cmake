# Writes a C++ source that holds every sql/<dialect>/NNNN_name.sql file as a
# Migration. Run at build time: cmake -DDIALECT=... -DSQL_DIR=... -DOUTPUT=... -P
# (optionally -DHEADER=path/of/the/declaring/header.hpp, relative to src/).
# Dialects: sqlite (declared in storage/migrations.hpp) and postgres (declared
# in storage/postgres/migrations.hpp). The SQL itself is each dialect's own:
# nothing is translated.
if(NOT DEFINED HEADER)
  set(HEADER "storage/migrations.hpp")
endif()
file(GLOB files "${SQL_DIR}/*.sql")
list(SORT files)
set(entries "")
set(previous 0)
foreach(file IN LISTS files)
  get_filename_component(stem "${file}" NAME_WE)
  if(NOT stem MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)$")
    message(FATAL_ERROR "Migration file name must be NNNN_snake_case.sql: ${file}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  math(EXPR expected "${previous} + 1")
  if(NOT version EQUAL expected)
    message(FATAL_ERROR "Migration versions must be consecutive from 1: ${file}")
  endif()
  set(previous ${version})
  file(READ "${file}" sql)
  string(APPEND entries "    {${version}, \"${CMAKE_MATCH_2}\", R\"users_api_sql(${sql})users_api_sql\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from ${SQL_DIR} by cmake/EmbedMigrations.cmake; do not edit.
#include \"${HEADER}\"



namespace users::storage {
namespace {
constexpr Migration kMigrations[] = {
${entries}};
}  // namespace

std::span<const Migration> ${DIALECT}_migrations() { return kMigrations; }
}  // namespace users::storage
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
