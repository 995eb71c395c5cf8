// The PostgreSQL backend's statements, named and kept beside the code that
// runs them; each is prepared once per connection (see connection_setup in
// postgres_store.cpp).
#pragma once

#include <array>
#include <string_view>

namespace users::storage::postgres {

// Parameters are typed so that the plans never depend on the first values
// seen.
struct Prepared {
  const char* name;
  std::string_view parameter_types;
  std::string_view sql;
};
inline constexpr Prepared kFindUser{"users_api_find", "bigint", "SELECT id, dni, name FROM api_user WHERE id = $1"};
inline constexpr Prepared kDniExists{"users_api_dni_exists", "varchar, bigint",
                                     "SELECT 1 FROM api_user WHERE dni = $1 AND id IS DISTINCT FROM $2 LIMIT 1"};
// The plain list (no filter, by id), the reference's and every stream's
// shape, kept prepared; other list queries are planned per call.
inline constexpr Prepared kListFirst{"users_api_list_first", "bigint",
                                     "SELECT id, dni, name FROM api_user ORDER BY id LIMIT $1"};
inline constexpr Prepared kListAfter{"users_api_list_after", "bigint, bigint",
                                     "SELECT id, dni, name FROM api_user WHERE id > $1 ORDER BY id LIMIT $2"};
// No row when the dni is taken. INSERT ... SELECT WHERE NOT EXISTS rather
// than a unique violation: a row that is not inserted draws no id from the
// sequence, so a create refused for its dni leaves no gap, as the reference
// (which looks first) leaves none. A race past the NOT EXISTS still meets
// the unique index (23505).
inline constexpr Prepared kInsertUser{
    "users_api_insert", "varchar, varchar",
    "INSERT INTO api_user (dni, name) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM api_user WHERE dni = $1) "
    "RETURNING id"};
inline constexpr Prepared kUpdateUser{
    "users_api_update", "bigint, varchar, varchar",
    "UPDATE api_user SET dni = coalesce($2, dni), name = coalesce($3, name) WHERE id = $1 RETURNING id, dni, name"};
inline constexpr Prepared kDeleteUser{"users_api_delete", "bigint",
                                      "DELETE FROM api_user WHERE id = $1 RETURNING id, dni, name"};
// A write with If-Match: the tag condition sits in the UPDATE's (DELETE's)
// own WHERE, so the check and the write are one atomic step. Under READ
// COMMITTED, a writer that waited for another's row lock evaluates the WHERE
// again on the row that one committed (PostgreSQL's EvalPlanQual): of two
// writers holding one tag, the second finds the tag changed and writes
// nothing. The tag is domain::entity_tag computed in SQL (the same bytes: id
// as 8 bytes big-endian, then dni and name each after its byte length as 4
// bytes big-endian, SHA-256, the first 16 bytes in hex); the storage
// contract tests check that the two agree. The last column says whether the
// write happened; a row with false is a user that exists but did not match
// (412), no row a user that does not exist (404).
inline constexpr Prepared kUpdateUserIf{
    "users_api_update_if", "bigint, varchar, varchar, text[]",
    "WITH written AS (UPDATE api_user SET dni = coalesce($2, dni), name = coalesce($3, name) WHERE id = $1 AND "
    "encode(substr(sha256(int8send(id) || int4send(octet_length(convert_to(dni, 'UTF8'))) || convert_to(dni, 'UTF8') "
    "|| int4send(octet_length(convert_to(name, 'UTF8'))) || convert_to(name, 'UTF8')), 1, 16), 'hex') = ANY($4) "
    "RETURNING id, dni, name) "
    "SELECT id, dni, name, true FROM written UNION ALL "
    "SELECT id, dni, name, false FROM api_user WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM written)"};
inline constexpr Prepared kDeleteUserIf{
    "users_api_delete_if", "bigint, text[]",
    "WITH written AS (DELETE FROM api_user WHERE id = $1 AND "
    "encode(substr(sha256(int8send(id) || int4send(octet_length(convert_to(dni, 'UTF8'))) || convert_to(dni, 'UTF8') "
    "|| int4send(octet_length(convert_to(name, 'UTF8'))) || convert_to(name, 'UTF8')), 1, 16), 'hex') = ANY($2) "
    "RETURNING id, dni, name) "
    "SELECT id, dni, name, true FROM written UNION ALL "
    "SELECT id, dni, name, false FROM api_user WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM written)"};
inline constexpr Prepared kPing{"users_api_ping", "", "SELECT 1"};
// The snapshot a read made now would use (xmin:xmax:in-progress xids, for
// the whole cluster): two equal snapshots see exactly the same committed
// transactions, so the same rows; and a snapshot that moved (a commit, or
// any transaction ending) never comes back. The store's data version.
inline constexpr Prepared kSnapshot{"users_api_snapshot", "", "SELECT pg_current_snapshot()::text"};
inline constexpr std::array kStatements{kFindUser,   kDniExists,    kListFirst,    kListAfter, kInsertUser, kUpdateUser,
                                        kDeleteUser, kUpdateUserIf, kDeleteUserIf, kPing,      kSnapshot};

}  // namespace users::storage::postgres
