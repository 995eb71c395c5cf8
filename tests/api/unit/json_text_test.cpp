#include "api/json_text.hpp"

#include <gtest/gtest.h>

namespace users::api {
namespace {

TEST(UserJson, CompactWithKeysInOrderAndUtf8AsIs) {
  EXPECT_EQ(user_json({1, "0987", "Ana"}), R"({"id":1,"dni":"0987","name":"Ana"})");
  EXPECT_EQ(user_json({2, "x", "José 😀"}), "{\"id\":2,\"dni\":\"x\",\"name\":\"José 😀\"}");
}

TEST(UserJson, EscapesLikeDrf) {
  EXPECT_EQ(user_json({3, "a\"b\\c", "l\nt\t\x01"}), R"({"id":3,"dni":"a\"b\\c","name":"l\nt\t\u0001"})");
  EXPECT_EQ(user_json({4, "x",
                       "a\xE2\x80\xA8"
                       "b\xE2\x80\xA9"}),
            R"({"id":4,"dni":"x","name":"a\u2028b\u2029"})");
  EXPECT_EQ(user_json({5, "x", "\xE2\x82\xAC"}), "{\"id\":5,\"dni\":\"x\",\"name\":\"\xE2\x82\xAC\"}");  // € stays
}

TEST(ErrorJson, Shapes) {
  EXPECT_EQ(detail_json("Not found."), R"({"detail":"Not found."})");
  domain::FieldErrors errors;
  errors.name.push_back("n1");
  EXPECT_EQ(field_errors_json(errors), R"({"name":["n1"]})");
  errors.dni = {"d1", "d2"};
  EXPECT_EQ(field_errors_json(errors), R"({"dni":["d1","d2"],"name":["n1"]})");
  EXPECT_EQ(non_field_errors_json("m"), R"({"non_field_errors":["m"]})");
}

}  // namespace
}  // namespace users::api
