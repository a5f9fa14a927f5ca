#include "backfill/transforms.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

#include <array>
#include <cstdint>

namespace backfill {

namespace {

// FIPS 180-4, section 4.2.2: the first 32 bits of the fractional parts of
// the cube roots of the first 64 primes.
constexpr std::array<std::uint32_t, 64> k_sha256_rounds{
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotate_right(std::uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

void sha256_block(std::array<std::uint32_t, 8>& state, const unsigned char* block) {
  std::array<std::uint32_t, 64> w{};
  for (std::size_t t = 0; t < 16; ++t) {
    w[t] = std::uint32_t{block[4 * t]} << 24 | std::uint32_t{block[4 * t + 1]} << 16 |
           std::uint32_t{block[4 * t + 2]} << 8 | std::uint32_t{block[4 * t + 3]};
  }
  for (int t = 16; t < 64; ++t) {
    const std::uint32_t s0 =
        rotate_right(w[t - 15], 7) ^ rotate_right(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const std::uint32_t s1 =
        rotate_right(w[t - 2], 17) ^ rotate_right(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  auto [a, b, c, d, e, f, g, h] = state;
  for (int t = 0; t < 64; ++t) {
    const std::uint32_t t1 = h + (rotate_right(e, 6) ^ rotate_right(e, 11) ^ rotate_right(e, 25)) +
                             ((e & f) ^ (~e & g)) + k_sha256_rounds[t] + w[t];
    const std::uint32_t t2 = (rotate_right(a, 2) ^ rotate_right(a, 13) ^ rotate_right(a, 22)) +
                             ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  const std::array<std::uint32_t, 8> add{a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; ++i) state[i] += add[i];
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Match data of one thread, large enough for the first capture group of
// any expression.
struct MatchData {
  pcre2_match_data* data = pcre2_match_data_create(2, nullptr);
  ~MatchData() { pcre2_match_data_free(data); }
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  std::array<std::uint32_t, 8> state{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::size_t whole = bytes.size() / 64 * 64;
  for (std::size_t at = 0; at < whole; at += 64)
    sha256_block(state, reinterpret_cast<const unsigned char*>(bytes.data() + at));
  // The rest, a 1 bit, zeros, and the length in bits: one or two blocks.
  std::array<unsigned char, 128> tail{};
  const std::size_t rest = bytes.size() - whole;
  std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(whole), bytes.end(), tail.begin());
  tail[rest] = 0x80;
  const std::size_t blocks = rest < 56 ? 1 : 2;
  const std::uint64_t bits = std::uint64_t{bytes.size()} * 8;
  for (int i = 0; i < 8; ++i)
    tail[blocks * 64 - 1 - static_cast<std::size_t>(i)] =
        static_cast<unsigned char>(bits >> (8 * i));
  for (std::size_t b = 0; b < blocks; ++b) sha256_block(state, tail.data() + b * 64);
  std::string out;
  out.reserve(64);
  for (std::uint32_t word : state) out += fmt::format("{:08x}", word);
  return out;
}

std::string TransformSpec::describe() const {
  std::vector<std::string> steps;
  if (!regex.empty()) steps.push_back(fmt::format("regex \"{}\"", regex));
  if (trim) steps.push_back("trim");
  if (letter_case == LetterCase::k_lower) steps.push_back("lower");
  if (letter_case == LetterCase::k_upper) steps.push_back("upper");
  if (!map.empty()) steps.push_back(fmt::format("map of {}", map.size()));
  if (sha256) steps.push_back("hash sha256");
  return fmt::format("{}", fmt::join(steps, ", "));
}

struct Transforms::Regex {
  pcre2_code* code = nullptr;
  std::uint32_t groups = 0;  // capture groups of the expression
  ~Regex() { pcre2_code_free(code); }
};

Transforms::Transforms(TransformSpec spec) : spec_(std::move(spec)) {}
Transforms::~Transforms() = default;

std::shared_ptr<const Transforms> Transforms::compile(const TransformSpec& spec,
                                                      std::string& problem) {
  std::shared_ptr<Transforms> out(new Transforms(spec));
  if (spec.regex.empty()) return out;
  int error = 0;
  PCRE2_SIZE offset = 0;
  // Text that is not UTF-8 is searched too; it simply matches less.
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(spec.regex.data()), spec.regex.size(),
                    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (code == nullptr) {
    std::array<PCRE2_UCHAR, 256> message{};
    pcre2_get_error_message(error, message.data(), message.size());
    problem = fmt::format("does not compile: {} at character {}",
                          reinterpret_cast<const char*>(message.data()), offset + 1);
    return nullptr;
  }
  pcre2_jit_compile(code,
                    PCRE2_JIT_COMPLETE);  // faster where the JIT is available; else interpreted
  out->regex_ = std::make_unique<Regex>();
  out->regex_->code = code;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &out->regex_->groups);
  return out;
}

std::optional<std::string> Transforms::apply(std::string_view text) const {
  std::string value;
  if (regex_ != nullptr) {
    thread_local MatchData match;
    const int found = pcre2_match(regex_->code, reinterpret_cast<PCRE2_SPTR>(text.data()),
                                  text.size(), 0, 0, match.data, nullptr);
    if (found < 0) return std::nullopt;
    const PCRE2_SIZE* spans = pcre2_get_ovector_pointer(match.data);
    // Group 1 when the expression has one and it took part; else the match.
    const bool grouped = regex_->groups > 0;
    if (grouped && (found == 1 || spans[2] == PCRE2_UNSET)) return std::nullopt;
    const PCRE2_SIZE* span = grouped ? spans + 2 : spans;  // start, end
    value.assign(text.substr(span[0], span[1] - span[0]));
  } else {
    value.assign(text);
  }
  if (spec_.trim) {
    std::size_t first = 0, last = value.size();
    while (first < last && is_space(value[first])) ++first;
    while (last > first && is_space(value[last - 1])) --last;
    if (first == last) return std::nullopt;
    value = value.substr(first, last - first);
  }
  if (spec_.letter_case != LetterCase::k_keep) {
    const bool lower = spec_.letter_case == LetterCase::k_lower;
    for (char& c : value) {
      if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
  }
  for (const auto& [from, to] : spec_.map) {
    if (value == from) {
      value = to;
      break;
    }
  }
  if (spec_.sha256) value = sha256_hex(value);
  return value;
}

}  // namespace backfill
