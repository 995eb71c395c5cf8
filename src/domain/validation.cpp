#include "domain/validation.hpp"

#include "domain/messages.hpp"
#include "domain/text.hpp"

namespace users::domain {
namespace {

struct FieldRules {
  std::size_t max_chars;
  std::string_view too_long_message;
  // The model field's own validators, which DRF runs before CharField's.
  const DniPattern* pattern = nullptr;
};

// DRF's CharField.run_validation, step by step. Returns the cleaned value, or
// leaves the reasons in `errors`.
std::optional<std::string> validate_field(const FieldInput& input, WriteMode mode, const FieldRules& rules,
                                          std::vector<std::string_view>& errors) {
  using Kind = FieldInput::Kind;
  switch (input.kind) {
    case Kind::kAbsent:
      if (mode != WriteMode::kPatch) errors.push_back(messages::kRequired);
      return std::nullopt;
    case Kind::kNull: errors.push_back(messages::kNull); return std::nullopt;
    case Kind::kBool:
    case Kind::kArray:
    case Kind::kObject: errors.push_back(messages::kNotAString); return std::nullopt;
    case Kind::kString:
    case Kind::kNumber: break;
  }

  const std::string_view stripped = text::python_strip(input.text);
  if (stripped.empty()) {
    errors.push_back(messages::kBlank);
    return std::nullopt;
  }
  const auto errors_before = errors.size();
  if (rules.pattern != nullptr && !rules.pattern->matches(stripped)) errors.push_back(messages::kInvalidValue);
  if (text::count_code_points(stripped) > rules.max_chars) errors.push_back(rules.too_long_message);
  if (stripped.find('\0') != std::string_view::npos) errors.push_back(messages::kNullCharacters);
  if (errors.size() != errors_before) return std::nullopt;
  return std::string(stripped);
}

}  // namespace

ValidationOutcome validate(const UserInput& input, WriteMode mode, const ValidationRules& rules) {
  const FieldRules dni_rules{kDniMaxChars, messages::kDniTooLong, rules.dni_pattern ? &*rules.dni_pattern : nullptr};
  const FieldRules name_rules{kNameMaxChars, messages::kNameTooLong, nullptr};
  ValidationOutcome outcome;
  outcome.changes.dni = validate_field(input.dni, mode, dni_rules, outcome.errors.dni);
  outcome.changes.name = validate_field(input.name, mode, name_rules, outcome.errors.name);
  if (outcome.changes.dni) {
    outcome.dni_to_check_unique = outcome.changes.dni;
  } else if (outcome.errors.dni.size() == 1 && outcome.errors.dni.front() == messages::kInvalidValue) {
    outcome.dni_to_check_unique = std::string(text::python_strip(input.dni.text));
  }
  return outcome;
}

std::optional<std::string_view> dni_as_sent(const UserInput& input) {
  using Kind = FieldInput::Kind;
  switch (input.dni.kind) {
    case Kind::kString:
    case Kind::kNumber:
    case Kind::kBool: return input.dni.text;
    default: return std::nullopt;
  }
}

}  // namespace users::domain
