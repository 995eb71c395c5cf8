// DNI_PATTERN: a regular expression every dni sent must match as a whole,
// the reference's model-field RegexValidator. Perl syntax (Boost.Regex),
// matched code point by code point (pattern and dni decoded from UTF-8 to
// UTF-32) in the classic locale, so classes such as \d, \w and [[:alpha:]]
// and (?i) know ASCII only. No I/O; Boost.Regex stays inside the .cpp.
#pragma once

#include <boost/system/result.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace users::domain {

class DniPattern {
 public:
  // The compiled pattern, or why it cannot be one (Boost.Regex's message, or
  // ill-formed UTF-8).
  static boost::system::result<DniPattern, std::string> compile(std::string_view pattern);

  // Whether the whole of `dni` (valid UTF-8) matches. A match Boost.Regex
  // gives up on (catastrophic backtracking past its complexity or stack
  // bounds), ill-formed UTF-8 and a dni longer than kMaxMatchedCodePoints
  // all count as no match: a hostile dni costs milliseconds, never a thread.
  // Safe to call from several threads at once.
  [[nodiscard]] bool matches(std::string_view dni) const;

  // The pattern as configured.
  [[nodiscard]] const std::string& text() const;

  // Longer dnis are refused without matching: a dni past 13 characters is
  // refused anyway, and matching tens of thousands of them can take seconds
  // even within Boost's bounds (measured: (?i)([a-z]+)*[0-9] on 20,000
  // letters, 2 s; (a*)\1b on 65,000, 0.5 s), against tens of milliseconds
  // at this length.
  static constexpr std::size_t kMaxMatchedCodePoints = 1000;

 private:
  struct Compiled;
  explicit DniPattern(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}

  // Shared and immutable: copies are cheap, and a compiled regex may be
  // matched from several threads at once.
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace users::domain
