#include "domain/validation.hpp"

#include <gtest/gtest.h>

#include "domain/messages.hpp"

namespace users::domain {
namespace {

using Kind = FieldInput::Kind;
namespace msg = messages;

UserInput input(FieldInput dni, FieldInput name) {
  return UserInput{std::move(dni), std::move(name)};
}
FieldInput text(std::string value) {
  return FieldInput::string(std::move(value));
}

TEST(Validate, AcceptsAndTrimsValidFields) {
  const auto outcome = validate(input(text("  123 "), text("\tAna\n")), WriteMode::kCreate);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(outcome.changes.dni, "123");
  EXPECT_EQ(outcome.changes.name, "Ana");
}

TEST(Validate, RequiresBothFieldsExceptOnPatch) {
  const auto create = validate(UserInput{}, WriteMode::kCreate);
  EXPECT_EQ(create.errors.dni, std::vector<std::string_view>{msg::kRequired});
  EXPECT_EQ(create.errors.name, std::vector<std::string_view>{msg::kRequired});
  const auto replace = validate(UserInput{}, WriteMode::kReplace);
  EXPECT_EQ(replace.errors.name, std::vector<std::string_view>{msg::kRequired});
  const auto patch = validate(UserInput{}, WriteMode::kPatch);
  EXPECT_TRUE(patch.errors.empty());
  EXPECT_FALSE(patch.changes.dni.has_value());
}

TEST(Validate, NullIsRefusedEvenOnPatch) {
  const auto outcome = validate(input({Kind::kNull, {}}, {}), WriteMode::kPatch);
  EXPECT_EQ(outcome.errors.dni, std::vector<std::string_view>{msg::kNull});
}

TEST(Validate, OnlyStringsAndNumbersAreStrings) {
  for (const Kind kind : {Kind::kBool, Kind::kArray, Kind::kObject}) {
    const auto outcome = validate(input({kind, "True"}, text("x")), WriteMode::kCreate);
    EXPECT_EQ(outcome.errors.dni, std::vector<std::string_view>{msg::kNotAString});
  }
  const auto number = validate(input({Kind::kNumber, "123"}, text("x")), WriteMode::kCreate);
  EXPECT_TRUE(number.errors.empty());
  EXPECT_EQ(number.changes.dni, "123");
}

TEST(Validate, BlankAfterPythonStripIsRefused) {
  for (const char* blank : {"", "   ", "\xC2\xA0", "\xE3\x80\x80\t"}) {
    const auto outcome = validate(input(text(blank), text("x")), WriteMode::kCreate);
    EXPECT_EQ(outcome.errors.dni, std::vector<std::string_view>{msg::kBlank}) << blank;
  }
}

TEST(Validate, LengthCountsCharactersAndCollectsEveryRule) {
  std::string thirteen_accents;
  for (int i = 0; i < 13; ++i) thirteen_accents += "\xC3\xA9";
  EXPECT_TRUE(validate(input(text(thirteen_accents), text("x")), WriteMode::kCreate).errors.empty());

  const auto too_long = validate(input(text(thirteen_accents + "e"), text(std::string(31, 'n'))), WriteMode::kCreate);
  EXPECT_EQ(too_long.errors.dni, std::vector<std::string_view>{msg::kDniTooLong});
  EXPECT_EQ(too_long.errors.name, std::vector<std::string_view>{msg::kNameTooLong});

  const auto both = validate(input(text(std::string("12345678901234\0", 15)), text("x")), WriteMode::kCreate);
  EXPECT_EQ(both.errors.dni, (std::vector<std::string_view>{msg::kDniTooLong, msg::kNullCharacters}));
}

ValidationRules with_pattern(std::string_view pattern) {
  ValidationRules rules;
  auto compiled = DniPattern::compile(pattern);
  EXPECT_TRUE(compiled);
  if (compiled) rules.dni_pattern = *compiled;
  return rules;
}

TEST(ValidateWithDniPattern, AMatchingDniPassesTrimmed) {
  const auto rules = with_pattern("[0-9]{8}[A-Z]");
  const auto outcome = validate(input(text(" 12345678Z\n"), text("Ana")), WriteMode::kCreate, rules);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(outcome.changes.dni, "12345678Z");
  EXPECT_EQ(outcome.dni_to_check_unique, "12345678Z");
}

TEST(ValidateWithDniPattern, ANonMatchingDniGetsRegexValidatorsMessage) {
  const auto rules = with_pattern("[0-9]{8}[A-Z]");
  for (const WriteMode mode : {WriteMode::kCreate, WriteMode::kReplace, WriteMode::kPatch}) {
    const auto outcome = validate(input(text("abc"), text("Ana")), mode, rules);
    EXPECT_EQ(outcome.errors.dni, std::vector<std::string_view>{msg::kInvalidValue});
    EXPECT_TRUE(outcome.errors.name.empty());
    EXPECT_FALSE(outcome.changes.dni.has_value());
    EXPECT_EQ(outcome.changes.name, "Ana");
    // DRF's UniqueValidator still runs on it (after the pattern's message).
    EXPECT_EQ(outcome.dni_to_check_unique, "abc");
  }
  // A number is matched as its text.
  EXPECT_TRUE(validate(input({Kind::kNumber, "12345678"}, text("x")), WriteMode::kCreate, with_pattern("[0-9]{8}"))
                  .errors.empty());
}

TEST(ValidateWithDniPattern, ThePatternComesBeforeLengthAndNullCharacters) {
  const auto rules = with_pattern("[0-9]{8}[A-Z]");
  const auto too_long = validate(input(text("12345678901234"), text("x")), WriteMode::kCreate, rules);
  EXPECT_EQ(too_long.errors.dni, (std::vector<std::string_view>{msg::kInvalidValue, msg::kDniTooLong}));
  EXPECT_FALSE(too_long.dni_to_check_unique.has_value());

  const auto nul = validate(input(text(std::string("1234\0", 5)), text("x")), WriteMode::kCreate, rules);
  EXPECT_EQ(nul.errors.dni, (std::vector<std::string_view>{msg::kInvalidValue, msg::kNullCharacters}));

  const auto all = validate(input(text(std::string("12345678901234\0", 15)), text("x")), WriteMode::kCreate, rules);
  EXPECT_EQ(all.errors.dni,
            (std::vector<std::string_view>{msg::kInvalidValue, msg::kDniTooLong, msg::kNullCharacters}));

  // A dni the pattern accepts gets only the other rules' messages.
  const auto long_match =
      validate(input(text("12345678901234"), text("x")), WriteMode::kCreate, with_pattern("[0-9]+"));
  EXPECT_EQ(long_match.errors.dni, std::vector<std::string_view>{msg::kDniTooLong});
}

TEST(ValidateWithDniPattern, ErrorsBeforeTheValidatorsStopThere) {
  const auto rules = with_pattern("[0-9]{8}[A-Z]");
  EXPECT_EQ(validate(input(text("  "), text("x")), WriteMode::kCreate, rules).errors.dni,
            std::vector<std::string_view>{msg::kBlank});
  EXPECT_EQ(validate(input({Kind::kNull, {}}, text("x")), WriteMode::kCreate, rules).errors.dni,
            std::vector<std::string_view>{msg::kNull});
  EXPECT_EQ(validate(input({Kind::kBool, "True"}, text("x")), WriteMode::kCreate, rules).errors.dni,
            std::vector<std::string_view>{msg::kNotAString});
  EXPECT_EQ(validate(UserInput{}, WriteMode::kCreate, rules).errors.dni, std::vector<std::string_view>{msg::kRequired});
  // PATCH without a dni: nothing to check.
  const auto patch = validate(input({}, text("x")), WriteMode::kPatch, rules);
  EXPECT_TRUE(patch.errors.empty());
  EXPECT_FALSE(patch.dni_to_check_unique.has_value());
}

TEST(ValidateWithDniPattern, TheNameIsNeverMatched) {
  const auto outcome =
      validate(input(text("12345678Z"), text("Ana")), WriteMode::kCreate, with_pattern("[0-9]{8}[A-Z]"));
  EXPECT_TRUE(outcome.errors.empty());
}

TEST(ValidateWithDniPattern, WithoutAPatternAnyDniPasses) {
  const auto outcome = validate(input(text("abc"), text("x")), WriteMode::kCreate, ValidationRules{});
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(outcome.dni_to_check_unique, "abc");
}

TEST(DniAsSent, IsTheTextBeforeTrimming) {
  EXPECT_EQ(dni_as_sent(input(text(" 1 "), {})), " 1 ");
  EXPECT_EQ(dni_as_sent(input({Kind::kNumber, "123"}, {})), "123");
  EXPECT_EQ(dni_as_sent(input({Kind::kBool, "True"}, {})), "True");
  EXPECT_FALSE(dni_as_sent(input({Kind::kNull, {}}, {})).has_value());
  EXPECT_FALSE(dni_as_sent(UserInput{}).has_value());
}

}  // namespace
}  // namespace users::domain
