#include "domain/validation.hpp"

#include "domain/messages.hpp"
#include "domain/text.hpp"

namespace users::domain {
namespace {

struct FieldRules {
  std::size_t max_chars;
  std::string_view too_long_message;
};

constexpr FieldRules kDniRules{kDniMaxChars, messages::kDniTooLong};
constexpr FieldRules kNameRules{kNameMaxChars, messages::kNameTooLong};

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
  if (text::count_code_points(stripped) > rules.max_chars) errors.push_back(rules.too_long_message);
  if (stripped.find('\0') != std::string_view::npos) errors.push_back(messages::kNullCharacters);
  if (errors.size() != errors_before) return std::nullopt;
  return std::string(stripped);
}

}  // namespace

ValidationOutcome validate(const UserInput& input, WriteMode mode) {
  ValidationOutcome outcome;
  outcome.changes.dni = validate_field(input.dni, mode, kDniRules, outcome.errors.dni);
  outcome.changes.name = validate_field(input.name, mode, kNameRules, outcome.errors.name);
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
