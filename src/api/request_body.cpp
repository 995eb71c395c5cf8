#include "api/request_body.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/url/decode_view.hpp>
#include <boost/url/param.hpp>
#include <boost/url/params_encoded_view.hpp>
#include <boost/url/parse_query.hpp>
#include <cctype>
#include <cstdlib>
#include <optional>

#include "api/json_text.hpp"
#include "domain/messages.hpp"
#include "domain/text.hpp"

namespace users::api {
namespace {

using domain::FieldInput;
using domain::UserInput;
using Kind = FieldInput::Kind;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

// Deeper documents are refused as malformed; no user needs more than two.
constexpr std::size_t kMaxJsonDepth = 64;

bool is_float_literal(std::string_view number) {
  return number.find_first_of(".eE") != std::string_view::npos;
}

// Python's str() of a JSON number, which is what the reference stores.
std::string python_number_text(const std::string& literal) {
  if (!is_float_literal(literal)) return domain::text::python_int_text(literal);
  return domain::text::python_float_text(std::strtod(literal.c_str(), nullptr));
}

// SAX events from Boost.JSON's parser, keeping only the top-level "dni" and
// "name" (the last of each wins, as in Python) and the type of the document.
class UserBodyHandler {
 public:
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

  UserInput input;
  // Python's name for the document's type when it is not an object.
  std::string_view top_level_type;

  bool on_document_begin(json::error_code& /*ec*/) { return true; }
  bool on_document_end(json::error_code& /*ec*/) { return true; }

  bool on_object_begin(json::error_code& /*ec*/) {
    if (depth_ == 0) top_level_type = "dict";
    mark_container(Kind::kObject);
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t /*size*/, json::error_code& /*ec*/) {
    --depth_;
    return true;
  }
  bool on_array_begin(json::error_code& /*ec*/) {
    if (depth_ == 0) top_level_type = "list";
    mark_container(Kind::kArray);
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t /*size*/, json::error_code& /*ec*/) {
    --depth_;
    return true;
  }

  bool on_key_part(json::string_view part, std::size_t /*size*/, json::error_code& /*ec*/) {
    if (depth_ == 1) key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view part, std::size_t /*size*/, json::error_code& /*ec*/) {
    if (depth_ != 1) return true;
    key_.append(part.data(), part.size());
    field_ = key_ == "dni" ? &input.dni : key_ == "name" ? &input.name : nullptr;
    key_.clear();
    return true;
  }

  bool on_string_part(json::string_view part, std::size_t /*size*/, json::error_code& /*ec*/) {
    if (wanted()) text_.append(part.data(), part.size());
    return true;
  }
  bool on_string(json::string_view part, std::size_t /*size*/, json::error_code& /*ec*/) {
    if (depth_ == 0) top_level_type = "str";
    if (!wanted()) return true;
    text_.append(part.data(), part.size());
    set_field(Kind::kString, std::move(text_));
    text_.clear();
    return true;
  }

  bool on_number_part(json::string_view part, json::error_code& /*ec*/) {
    if (wanted() || depth_ == 0) text_.append(part.data(), part.size());
    return true;
  }
  bool on_int64(std::int64_t /*value*/, json::string_view part, json::error_code& /*ec*/) { return on_number(part); }
  bool on_uint64(std::uint64_t /*value*/, json::string_view part, json::error_code& /*ec*/) { return on_number(part); }
  bool on_double(double /*value*/, json::string_view part, json::error_code& /*ec*/) { return on_number(part); }

  bool on_bool(bool value, json::error_code& /*ec*/) {
    if (depth_ == 0) top_level_type = "bool";
    if (wanted()) set_field(Kind::kBool, value ? "True" : "False");
    return true;
  }
  bool on_null(json::error_code& /*ec*/) {
    if (depth_ == 0) top_level_type = "NoneType";
    if (wanted()) set_field(Kind::kNull, {});
    return true;
  }

  bool on_comment_part(json::string_view /*text*/, json::error_code& /*ec*/) { return true; }
  bool on_comment(json::string_view /*text*/, json::error_code& /*ec*/) { return true; }

 private:
  // A value for "dni" or "name" at the top level is being read.
  [[nodiscard]] bool wanted() const { return depth_ == 1 && field_ != nullptr; }

  void mark_container(Kind kind) {
    if (wanted()) set_field(kind, {});
  }

  void set_field(Kind kind, std::string text) {
    *field_ = FieldInput{kind, std::move(text)};
    field_ = nullptr;
  }

  bool on_number(json::string_view part) {
    if (depth_ == 0) {
      text_.append(part.data(), part.size());
      top_level_type = is_float_literal(text_) ? "float" : "int";
      text_.clear();
      return true;
    }
    if (!wanted()) return true;
    text_.append(part.data(), part.size());
    set_field(Kind::kNumber, python_number_text(text_));
    text_.clear();
    return true;
  }

  std::size_t depth_ = 0;
  FieldInput* field_ = nullptr;
  std::string key_;
  std::string text_;
};

std::string_view describe_json_error(const json::error_code& ec) {
  if (ec == json::error::extra_data) return "Extra data";
  if (ec == json::error::incomplete) return "Unexpected end of JSON input";
  if (ec == json::error::too_deep) return "Nesting too deep";
  if (ec == json::error::illegal_leading_surrogate || ec == json::error::illegal_trailing_surrogate) {
    return "Invalid \\uXXXX surrogate pair";
  }
  if (ec == json::error::expected_hex_digit || ec == json::error::expected_utf16_escape) {
    return "Invalid \\uXXXX escape";
  }
  if (ec == json::error::exponent_overflow) return "Number out of range";
  return "Expecting a valid JSON value";
}

// "line 1 column 5 (char 4)", counted the way Python's json module does.
std::string json_error_position(std::string_view body, std::size_t offset) {
  const std::string_view before = body.substr(0, offset);
  const auto line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const auto line_start = before.rfind('\n');
  const std::string_view this_line = line_start == std::string_view::npos ? before : before.substr(line_start + 1);
  return fmt::format("line {} column {} (char {})", line, domain::text::count_code_points(this_line) + 1,
                     domain::text::count_code_points(before));
}

BodyError detail_error(bhttp::status status, std::string message) {
  std::string json = detail_json(message);
  return {status, std::move(json), std::move(message), false};
}

BodyError non_field_error(std::string message) {
  std::string json = non_field_errors_json(message);
  return {bhttp::status::bad_request, std::move(json), std::move(message), true};
}

BodyError unsupported_media_type(std::string_view content_type) {
  return detail_error(bhttp::status::unsupported_media_type, fmt::format("Unsupported media type \"{}\" in request.",
                                                                         domain::text::latin1_to_utf8(content_type)));
}

// RFC 3986 pchar / "?" / "/" less "%" (handled on its own): the bytes a query
// may hold as they are. A table, because a search of the 80-byte list cost
// about 25 instructions a byte.
constexpr std::array<bool, 256> kQueryChar = [] {
  std::array<bool, 256> table{};
  for (const char c :
       std::string_view("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}();

bool is_query_char(char c) {
  return kQueryChar[static_cast<unsigned char>(c)];
}

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// A byte that can stand as it is: a query character or the start of a valid escape.
bool is_kept(std::string_view body, std::size_t i) {
  const char c = body[i];
  if (is_query_char(c)) return true;
  return c == '%' && i + 2 < body.size() && is_hex(body[i + 1]) && is_hex(body[i + 2]);
}

// Browsers and curl send form data that RFC 3986 would reject (raw UTF-8, a
// lone "%"); Python reads such bytes as they are. Escaping them first lets
// Boost.URL decode every body Python accepts. Returns `body` itself when
// nothing needs escaping, else the escaped copy kept in `storage`, sized
// exactly by a first pass so that a hostile body costs one allocation
// rather than one fmt::format (about 700 instructions) per byte.
std::string_view escape_for_query(std::string_view body, std::string& storage) {
  std::size_t to_escape = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (!is_kept(body, i)) ++to_escape;
  }
  if (to_escape == 0) return body;
  static constexpr std::string_view kHexDigits = "0123456789ABCDEF";
  storage.resize(body.size() + 2 * to_escape);
  char* out = storage.data();
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (is_kept(body, i)) {
      *out++ = body[i];
    } else {
      const auto byte = static_cast<unsigned char>(body[i]);
      *out++ = '%';
      *out++ = kHexDigits[byte >> 4U];
      *out++ = kHexDigits[byte & 0xFU];
    }
  }
  return storage;
}

// The decoded key is `name`, compared without decoding anything longer.
bool key_is(const boost::urls::param_pct_view& param, std::string_view name, boost::urls::encoding_opts options) {
  return param.key.decoded_size() == name.size() && boost::urls::decode_view(param.key, options) == name;
}

}  // namespace

boost::system::result<UserInput, BodyError> parse_json_user(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::basic_parser<UserBodyHandler> parser(options);
  json::error_code ec;
  const std::size_t consumed = parser.write_some(false, body.data(), body.size(), ec);
  // write_some stops after one document: anything left over is extra data.
  if (!ec && consumed != body.size()) ec = json::error::extra_data;
  if (ec) {
    return detail_error(bhttp::status::bad_request, fmt::format("JSON parse error - {}: {}", describe_json_error(ec),
                                                                json_error_position(body, consumed)));
  }
  auto& handler = parser.handler();
  if (handler.top_level_type == "NoneType") {
    return non_field_error(std::string(domain::messages::kNoDataProvided));
  }
  if (handler.top_level_type != "dict") {
    return non_field_error(fmt::format("Invalid data. Expected a dictionary, but got {}.", handler.top_level_type));
  }
  return std::move(handler.input);
}

// Hostile 1 MiB bodies cost (issue 15): millions of instructions in the
// parser (callgrind), then the median time to answer one POST through the
// server (release, this loaded 2-core machine):
//   form body                  before           after
//   0xff bytes                 947  62 ms       82  3.9 ms
//   "%" / "&" / "="            928 / 514 / 138  118 / 186 / 34
//                              60 / 47 / 11 ms  5.6 / 11.5 / 2.1 ms
//   "a=%ZZ" repeated           289  21 ms       59  3.5 ms
//   raw "€"                    954  66 ms       85  4.0 ms
//   "name=" + raw "€"          991  73 ms       155 10.5 ms
//   "name=" + 0xff bytes       985  68 ms       205 16 ms (3 MiB of U+FFFD)
//   "name=" + "%E2%82%AC"      116              77
//   "a=1&" / "dni=1&" repeated 261 / 241        56 / 75
//                              21 ms            3.3 ms (a=1&)
// against Boost.JSON on 1 MiB: {"name":"€…"} 30 and 3.5 ms, {"x":"ÿ…"}
// 2.6 ms, 175,000 keys 65 and 4.1 ms.
// Nothing was quadratic: the cost was the escaping's fmt::format per byte,
// a second validation in params_view's constructor, and params_view decoding
// (and allocating) every key and value of every parameter. Now only the last
// "dni" and "name" are decoded, once.
UserInput parse_form_user(std::string_view body) {
  // Boost.URL 1.81's parse_query rebuilds its view from the data pointer
  // alone (detail::query_ref(s.data(), ...)), so it measures the query with
  // strlen: what it gets must be a NUL-terminated string with no NUL inside.
  // The escaped copy is one; a view of the body need not be, and a body
  // followed by more bytes was read past its end, those bytes included
  // (found by tests/fuzz, request_body). So the body is copied when it
  // needed no escaping.
  std::string storage;
  const std::string_view query = escape_for_query(body, storage);
  if (query.data() != storage.data()) storage.assign(query);
  const auto params = boost::urls::parse_query(storage);
  UserInput input;
  if (!params) return input;  // cannot happen after escaping
  boost::urls::encoding_opts options;
  options.space_as_plus = true;
  // Django's QueryDict.get: the last value of a repeated key.
  std::optional<boost::urls::pct_string_view> dni;
  std::optional<boost::urls::pct_string_view> name;
  for (const auto& param : *params) {
    if (key_is(param, "dni", options))
      dni = param.value;
    else if (key_is(param, "name", options))
      name = param.value;
  }
  if (dni) input.dni = FieldInput::string(domain::text::repair_utf8(dni->decode(options)));
  if (name) input.name = FieldInput::string(domain::text::repair_utf8(name->decode(options)));
  return input;
}

boost::system::result<UserInput, BodyError> parse_user_body(std::string_view content_type, std::string_view body) {
  if (body.empty()) return UserInput{};  // DRF reads an empty body as {}

  std::string_view media_type = content_type.substr(0, content_type.find(';'));
  media_type = domain::text::python_strip(media_type);
  const auto slash = media_type.find('/');
  if (slash == std::string_view::npos) return unsupported_media_type(content_type);
  const auto main_type = media_type.substr(0, slash);
  const auto sub_type = media_type.substr(slash + 1);
  auto matches = [&](std::string_view wanted_main, std::string_view wanted_sub) {
    return (main_type == "*" || boost::beast::iequals(main_type, wanted_main)) &&
           (sub_type == "*" || boost::beast::iequals(sub_type, wanted_sub));
  };
  // DRF tries its parsers in this order; "*/*" therefore means JSON.
  if (matches("application", "json")) return parse_json_user(body);
  if (matches("application", "x-www-form-urlencoded")) return parse_form_user(body);
  return unsupported_media_type(content_type);
}

}  // namespace users::api
