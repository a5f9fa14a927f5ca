// The small changes a source's value may go through after it is extracted
// and before it is converted to the field's type, so that a backfill needs
// no view or second job for them. They work on the value's text, always in
// this order: regex, trim, lower or upper, map, hash.
//
// Thread contract: a Transforms is immutable once compiled; apply() is safe
// from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backfill {

enum class LetterCase { k_keep, k_lower, k_upper };

// As a job file gives them, on one source of a field.
struct TransformSpec {
  std::string
      regex;  // keep the first capture group (the whole match without one); no match: nothing
  bool trim = false;                            // whitespace off both ends; nothing left: nothing
  LetterCase letter_case = LetterCase::k_keep;  // ASCII letters, as SQLite's lower() and upper()
  std::vector<std::pair<std::string, std::string>> map;  // whole text to text; others unchanged
  bool sha256 = false;  // the lowercase hex SHA-256 digest of the text's bytes

  bool any() const {
    return !regex.empty() || trim || letter_case != LetterCase::k_keep || !map.empty() || sha256;
  }
  // `regex "(\d+)", trim, lower`, for messages.
  std::string describe() const;
};

class Transforms {
 public:
  // Compiles `spec`'s regular expression; nullptr with `problem` set when it
  // does not compile (naming where).
  static std::shared_ptr<const Transforms> compile(const TransformSpec& spec, std::string& problem);
  ~Transforms();
  Transforms(const Transforms&) = delete;
  Transforms& operator=(const Transforms&) = delete;

  // The transformed text, or nullopt when a step leaves nothing.
  std::optional<std::string> apply(std::string_view text) const;

  const TransformSpec& spec() const { return spec_; }

 private:
  struct Regex;
  explicit Transforms(TransformSpec spec);
  TransformSpec spec_;
  std::unique_ptr<Regex> regex_;
};

// The lowercase hex SHA-256 digest of `bytes` (FIPS 180-4).
std::string sha256_hex(std::string_view bytes);

}  // namespace backfill
