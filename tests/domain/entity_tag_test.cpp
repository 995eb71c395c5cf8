// A user's entity tag: a fixed function of id, dni and name (the values
// below are computed independently, with Python's hashlib over the same
// framing), and what a precondition admits.
#include "domain/entity_tag.hpp"

#include <gtest/gtest.h>

namespace users::domain {
namespace {

TEST(EntityTag, IsTheTruncatedSha256OfTheFramedFields) {
  EXPECT_EQ(entity_tag(User{1, "0987", "Ana"}), "1fcfdb41bbd5f0747e7570f530bbb7a5");
  EXPECT_EQ(entity_tag(User{7,
                            "\xC3\x91"
                            "1",
                            "Zo\xC3\xAB"}),
            "a1b6bc9a131d1907ee7afaff3831f8e2");
}

TEST(EntityTag, LengthPrefixesKeepFieldsApart) {
  // The same bytes moved from name to dni frame differently.
  EXPECT_EQ(entity_tag(User{1, "0987A", "na"}), "5bb104ad16ce1d145f54e819302275ee");
  EXPECT_NE(entity_tag(User{1, "0987A", "na"}), entity_tag(User{1, "0987", "Ana"}));
  EXPECT_NE(entity_tag(User{1, "0987", "Ana"}), entity_tag(User{2, "0987", "Ana"}));
}

TEST(EntityTag, TheSameContentHasTheSameTag) {
  EXPECT_EQ(entity_tag(User{3, "x", "y"}), entity_tag(User{3, "x", "y"}));
}

TEST(Precondition, AnyAdmitsEveryUserAndAListOnlyItsTags) {
  const User user{1, "0987", "Ana"};
  EXPECT_TRUE(Precondition::any_user().is_any());
  EXPECT_TRUE(Precondition::any_user().admits(user));
  EXPECT_TRUE(Precondition::one_of({"other", entity_tag(user)}).admits(user));
  EXPECT_FALSE(Precondition::one_of({"other"}).admits(user));
  EXPECT_FALSE(Precondition::one_of({}).admits(user));
  EXPECT_FALSE(Precondition::one_of({"1FCFDB41BBD5F0747E7570F530BBB7A5"}).admits(user));  // case counts
}

}  // namespace
}  // namespace users::domain
