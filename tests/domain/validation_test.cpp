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

TEST(DniAsSent, IsTheTextBeforeTrimming) {
  EXPECT_EQ(dni_as_sent(input(text(" 1 "), {})), " 1 ");
  EXPECT_EQ(dni_as_sent(input({Kind::kNumber, "123"}, {})), "123");
  EXPECT_EQ(dni_as_sent(input({Kind::kBool, "True"}, {})), "True");
  EXPECT_FALSE(dni_as_sent(input({Kind::kNull, {}}, {})).has_value());
  EXPECT_FALSE(dni_as_sent(UserInput{}).has_value());
}

}  // namespace
}  // namespace users::domain
