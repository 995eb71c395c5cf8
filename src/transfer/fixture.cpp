#include "transfer/fixture.hpp"

#include <fmt/format.h>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>
#include <string>

#include "common/json_string.hpp"
#include "domain/text.hpp"
#include "domain/validation.hpp"

namespace users::transfer {
namespace json = boost::json;

namespace {

// The file is a list of records, a record an object whose "fields" is an
// object: three levels, no deeper.
constexpr std::size_t kMaxDepth = 3;
// Far beyond any valid record, small enough that a hostile file cannot make
// one record fill memory.
constexpr std::size_t kMaxStringBytes = 4096;
constexpr std::size_t kMaxKeyBytes = 64;
constexpr std::size_t kMaxObjectMembers = 16;

domain::FieldInput field_input(const json::value* value) {
  using Kind = domain::FieldInput::Kind;
  if (value == nullptr) return {};
  switch (value->kind()) {
    case json::kind::null: return {Kind::kNull, {}};
    case json::kind::bool_: return {Kind::kBool, value->get_bool() ? "True" : "False"};
    case json::kind::int64: return {Kind::kNumber, std::to_string(value->get_int64())};
    case json::kind::uint64: return {Kind::kNumber, std::to_string(value->get_uint64())};
    case json::kind::double_: return {Kind::kNumber, domain::text::python_float_text(value->get_double())};
    case json::kind::string: return domain::FieldInput::string(std::string(value->get_string()));
    case json::kind::array: return {Kind::kArray, {}};
    case json::kind::object: return {Kind::kObject, {}};
  }
  return {};
}

std::string join(const std::vector<std::string_view>& messages) {
  std::string out;
  for (const auto message : messages) {
    if (!out.empty()) out += ' ';
    out += message;
  }
  return out;
}

boost::system::result<domain::User, std::string> decode_record(const json::value& value) {
  const auto* record = value.if_object();
  if (record == nullptr) return std::string("not an object");
  for (const auto& member : *record) {
    if (member.key() != "model" && member.key() != "pk" && member.key() != "fields") {
      return fmt::format("unknown key \"{}\"", std::string_view(member.key()));
    }
  }
  const auto* model = record->if_contains("model");
  if (model == nullptr || !model->is_string()) return std::string("no \"model\"");
  if (model->get_string() != kUserModel) {
    return fmt::format("model \"{}\" is not {}", std::string_view(model->get_string()), kUserModel);
  }
  // Ids are kept, so every record must carry its own (Django's natural keys
  // have none to keep).
  const auto* pk = record->if_contains("pk");
  if (pk == nullptr) return std::string("no \"pk\"");
  const auto id = pk->if_int64();
  if (id == nullptr || *id < 1) return std::string("\"pk\" is not a positive integer");
  const auto* fields_value = record->if_contains("fields");
  const auto* fields = fields_value != nullptr ? fields_value->if_object() : nullptr;
  if (fields == nullptr) return std::string("no \"fields\" object");
  for (const auto& member : *fields) {
    if (member.key() != "dni" && member.key() != "name") {
      return fmt::format("unknown field \"{}\"", std::string_view(member.key()));
    }
  }
  const domain::UserInput input{field_input(fields->if_contains("dni")), field_input(fields->if_contains("name"))};
  auto outcome = domain::validate(input, domain::WriteMode::kCreate);
  if (!outcome.errors.empty()) {
    std::string message = fmt::format("pk {}:", *id);
    if (!outcome.errors.dni.empty()) message += " dni: " + join(outcome.errors.dni);
    if (!outcome.errors.name.empty()) message += " name: " + join(outcome.errors.name);
    return message;
  }
  return domain::User{*id, std::move(*outcome.changes.dni), std::move(*outcome.changes.name)};
}

// Boost.JSON's parser events, turned back into one json::value per record
// (through json::value_stack, as Boost's own parser does for a whole
// document), so that only the record being read is ever in memory.
class RecordHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = kMaxObjectMembers;
  static constexpr std::size_t max_string_size = kMaxStringBytes;
  static constexpr std::size_t max_key_size = kMaxKeyBytes;

  std::vector<json::value> completed;
  std::size_t records_started = 0;
  std::string shape_error;  // the file is not a list of objects

  bool on_document_begin(json::error_code& /*ec*/) { return true; }
  bool on_document_end(json::error_code& /*ec*/) { return true; }

  bool on_array_begin(json::error_code& ec) {
    if (depth_ != 0) return refuse(ec, "a record holds a list");
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t /*n*/, json::error_code& /*ec*/) {
    --depth_;
    return true;
  }
  bool on_object_begin(json::error_code& ec) {
    if (depth_ == 0) return refuse(ec, "the file is not a list of records");
    if (depth_ == 1) start_record();
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code& /*ec*/) {
    stack_.push_object(n);
    if (--depth_ == 1) completed.push_back(stack_.release());
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t /*n*/, json::error_code& ec) {
    if (!inside_record(ec)) return false;
    stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t /*n*/, json::error_code& ec) {
    if (!inside_record(ec)) return false;
    stack_.push_string(s);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    stack_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    stack_.push_key(s);
    return true;
  }
  bool on_number_part(json::string_view /*s*/, json::error_code& ec) { return inside_record(ec); }
  bool on_int64(std::int64_t i, json::string_view /*s*/, json::error_code& ec) {
    if (!inside_record(ec)) return false;
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view /*s*/, json::error_code& ec) {
    if (!inside_record(ec)) return false;
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view /*s*/, json::error_code& ec) {
    if (!inside_record(ec)) return false;
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code& ec) {
    if (!inside_record(ec)) return false;
    stack_.push_bool(b);
    return true;
  }
  bool on_null(json::error_code& ec) {
    if (!inside_record(ec)) return false;
    stack_.push_null();
    return true;
  }
  bool on_comment_part(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }
  bool on_comment(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }

 private:
  void start_record() {
    ++records_started;
    stack_.reset();
  }
  // A scalar where a record or the list should be.
  bool inside_record(json::error_code& ec) {
    if (depth_ == 0) return refuse(ec, "the file is not a list of records");
    if (depth_ == 1) {
      ++records_started;
      return refuse(ec, "not an object");
    }
    return true;
  }
  bool refuse(json::error_code& ec, std::string_view why) {
    shape_error = why;
    ec = json::error::extra_data;  // any error stops the parser; shape_error says why
    return false;
  }

  std::size_t depth_ = 0;
  json::value_stack stack_;
};

json::parse_options fixture_parse_options() {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  return options;
}

}  // namespace

class FixtureReader::Parser {
 public:
  Parser() : parser_(fixture_parse_options()) {}

  boost::system::result<void, FixtureError> write(std::string_view bytes, bool more,
                                                  std::vector<FixtureRecord>& records) {
    if (parser_.done()) {
      if (bytes.find_first_not_of(" \t\r\n") != std::string_view::npos) return text_after_the_list();
      return {};
    }
    json::error_code ec;
    const std::size_t used = parser_.write_some(more, bytes.data(), bytes.size(), ec);
    auto& handler = parser_.handler();
    // Records completed before the error are still checked, so the error
    // named is the first one in the file.
    for (auto& value : handler.completed) {
      ++decoded_;
      auto user = decode_record(value);
      if (!user) return FixtureError{decoded_, user.error()};
      records.push_back(FixtureRecord{decoded_, std::move(*user)});
    }
    handler.completed.clear();
    if (ec) {
      const std::size_t position = handler.records_started;
      if (!handler.shape_error.empty()) return FixtureError{position, handler.shape_error};
      return FixtureError{position, fmt::format("not valid JSON: {}", ec.message())};
    }
    // The parser stops where the list ends (and the white space after it).
    if (used < bytes.size()) return text_after_the_list();
    return {};
  }

 private:
  static FixtureError text_after_the_list() { return FixtureError{0, "text after the end of the list"}; }

  json::basic_parser<RecordHandler> parser_;
  std::size_t decoded_ = 0;
};

std::string FixtureError::to_string() const {
  if (position == 0) return message;
  return fmt::format("record {}: {}", position, message);
}

FixtureReader::FixtureReader() : parser_(std::make_unique<Parser>()) {}
FixtureReader::FixtureReader(FixtureReader&&) noexcept = default;
FixtureReader& FixtureReader::operator=(FixtureReader&&) noexcept = default;
FixtureReader::~FixtureReader() = default;

boost::system::result<void, FixtureError> FixtureReader::feed(std::string_view bytes,
                                                              std::vector<FixtureRecord>& records) {
  return parser_->write(bytes, true, records);
}

boost::system::result<void, FixtureError> FixtureReader::finish(std::vector<FixtureRecord>& records) {
  return parser_->write({}, false, records);
}

void FixtureWriter::begin(std::string& out) const {
  (void)indent_;
  out += '[';
}

void FixtureWriter::add(const domain::User& user, std::string& out) {
  if (!first_) out += indent_ > 0 ? "," : ", ";
  first_ = false;
  if (indent_ == 0) {
    out += R"({"model": "api.user", "pk": )";
    out += std::to_string(user.id);
    out += R"(, "fields": {"dni": )";
    common::append_python_json_string(out, user.dni);
    out += R"(, "name": )";
    common::append_python_json_string(out, user.name);
    out += "}}";
    return;
  }
  // Python's json.dump(indent=N, separators=(",", ": ")), after the newline
  // Django writes before each record.
  const std::string one(static_cast<std::size_t>(indent_), ' ');
  const std::string two = one + one;
  out += "\n{\n";
  out += one + R"("model": "api.user",)" + "\n";
  out += one + R"("pk": )" + std::to_string(user.id) + ",\n";
  out += one + R"("fields": {)" + "\n";
  out += two + R"("dni": )";
  common::append_python_json_string(out, user.dni);
  out += ",\n" + two + R"("name": )";
  common::append_python_json_string(out, user.name);
  out += "\n" + one + "}\n}";
}

void FixtureWriter::end(std::string& out) const {
  out += indent_ > 0 ? "\n]\n" : "]";
}

}  // namespace users::transfer
