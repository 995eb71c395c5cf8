// Client-visible messages, byte for byte as Django REST Framework 3.14 words
// them: existing clients of the reference match on these strings.
#pragma once

#include <string_view>

namespace users::domain::messages {

inline constexpr std::string_view kRequired = "This field is required.";
inline constexpr std::string_view kNull = "This field may not be null.";
inline constexpr std::string_view kNotAString = "Not a valid string.";
// Django's RegexValidator, for DNI_PATTERN.
inline constexpr std::string_view kInvalidValue = "Enter a valid value.";
inline constexpr std::string_view kBlank = "This field may not be blank.";
inline constexpr std::string_view kDniTooLong = "Ensure this field has no more than 13 characters.";
inline constexpr std::string_view kNameTooLong = "Ensure this field has no more than 30 characters.";
inline constexpr std::string_view kNullCharacters = "Null characters are not allowed.";
inline constexpr std::string_view kDniTaken = "user with this dni already exists.";
inline constexpr std::string_view kUserAlreadyExists = "User already exists";
inline constexpr std::string_view kNoDataProvided = "No data provided";

}  // namespace users::domain::messages
