// Field validation exactly as the reference's DRF ModelSerializer applies it,
// minus the one rule that needs the database (dni uniqueness), which the
// api layer adds after asking the store (`check_dni_taken`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/dni_pattern.hpp"
#include "domain/user.hpp"

namespace users::domain {

// One field of a request body, as the client sent it.
struct FieldInput {
  enum class Kind { kAbsent, kNull, kString, kNumber, kBool, kArray, kObject };

  Kind kind = Kind::kAbsent;
  // kString: the text; kNumber: Python's str() of it; kBool: "True"/"False".
  std::string text;

  static FieldInput string(std::string value) { return {Kind::kString, std::move(value)}; }
};

struct UserInput {
  FieldInput dni;
  FieldInput name;
};

enum class WriteMode {
  kCreate,   // POST: both fields required
  kReplace,  // PUT: both fields required
  kPatch,    // PATCH: only the fields sent are validated
};

struct FieldErrors {
  std::vector<std::string_view> dni;
  std::vector<std::string_view> name;

  [[nodiscard]] bool empty() const { return dni.empty() && name.empty(); }
};

// Validated values: a field is set when it was sent and passed every rule.
struct UserChanges {
  std::optional<std::string> dni;
  std::optional<std::string> name;
};

struct ValidationOutcome {
  UserChanges changes;
  FieldErrors errors;
  // The cleaned dni DRF's UniqueValidator looks up: set when the dni passed
  // every rule, and also when it failed DNI_PATTERN alone (DRF runs the
  // model's validators, the pattern then uniqueness, before the length and
  // null-character ones, and reports them all).
  std::optional<std::string> dni_to_check_unique;
};

// The rules an operator may add to the reference's; the default is the
// reference's own.
struct ValidationRules {
  // DNI_PATTERN; empty: any dni.
  std::optional<DniPattern> dni_pattern;
};

ValidationOutcome validate(const UserInput& input, WriteMode mode, const ValidationRules& rules = {});

// The POST pre-check compares this text with stored dnis, before trimming.
// Empty when the reference's lookup could not match any user (absent or null).
std::optional<std::string_view> dni_as_sent(const UserInput& input);

}  // namespace users::domain
