#include "backfill/output.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include "backfill/value.h"

namespace backfill {

namespace {

std::mutex g_secrets_mutex;
std::vector<std::string> g_secrets;  // longest first, so no secret is left half replaced

// Secrets shorter than this are not replaced wherever they appear (a
// one-letter password would blank every such letter); URL-shaped text still
// loses them by position.
constexpr std::size_t k_min_secret_length = 3;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// True for a connection keyword that holds a password, spelt right or not:
// `password`, `sslpassword`, and the misspellings libpq refuses while the
// error naming the URL still shows it (`passwd`, `pwd`, `pass`, `pw`). Only
// these words: a column such as pass_status in a filter is no password.
bool is_password_keyword(std::string_view keyword) {
  const std::string lower = ascii_lowercase(keyword);
  return lower == "password" || lower == "sslpassword" || lower == "passwd" || lower == "pwd" ||
         lower == "pass" || lower == "pw";
}

// Where the value of each password keyword (`password=`, `passwd =`, ...)
// begins and ends in `text`.
template <class F>
void for_each_password_value(std::string_view text, F&& on_value) {
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t eq = text.find('='); eq != std::string_view::npos; eq = text.find('=', eq + 1)) {
    std::size_t word_end = eq;
    while (word_end > 0 && text[word_end - 1] == ' ') --word_end;
    std::size_t word_start = word_end;
    while (word_start > 0 && is_word(text[word_start - 1])) --word_start;
    if (word_start == word_end ||
        !is_password_keyword(text.substr(word_start, word_end - word_start)))
      continue;
    std::size_t start = eq + 1;
    while (start < text.size() && text[start] == ' ') ++start;
    std::size_t end = start;
    if (end < text.size() && text[end] == '\'') {
      end = text.find('\'', end + 1);
      end = end == std::string_view::npos ? text.size() : end + 1;
    } else {
      end = std::min(text.find_first_of("& \n\"", start), text.size());
    }
    if (end > start) on_value(start, end);
  }
}

// Where the password of each `scheme://user:password@` begins and ends.
template <class F>
void for_each_userinfo_password(std::string_view text, F&& on_value) {
  for (std::size_t scheme = text.find("://"); scheme != std::string_view::npos;
       scheme = text.find("://", scheme + 3)) {
    const std::size_t start = scheme + 3;
    // The user info ends at the last '@' before the query (whose host= may
    // hold one): a password with a raw '/' or a malformed host ([::1 without
    // its bracket) still loses it.
    const std::size_t word_end = std::min(text.find_first_of(" \n\"'", start), text.size());
    const std::size_t query = std::min(text.find('?', start), word_end);
    std::size_t at = text.substr(0, query).rfind('@');
    if (at == std::string_view::npos || at < start) continue;
    std::size_t colon = text.find(':', start);
    if (colon != std::string_view::npos && colon < at) on_value(colon + 1, at);
  }
}

}  // namespace

void add_secret(std::string_view secret) {
  if (secret.size() < k_min_secret_length) return;
  std::lock_guard lock(g_secrets_mutex);
  for (std::string s : {std::string(secret), percent_decoded(secret)}) {
    if (s.size() < k_min_secret_length || std::ranges::find(g_secrets, s) != g_secrets.end())
      continue;
    g_secrets.push_back(std::move(s));
  }
  std::ranges::sort(g_secrets,
                    [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void forget_secrets() {
  std::lock_guard lock(g_secrets_mutex);
  g_secrets.clear();
}

void add_url_secrets(std::string_view url) {
  std::vector<std::string> found;
  auto take = [&](std::size_t start, std::size_t end) {
    std::string_view v = url.substr(start, end - start);
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    found.emplace_back(v);
  };
  for_each_userinfo_password(url, take);
  for_each_password_value(url, take);
  for (const std::string& s : found) add_secret(s);
}

std::string redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard lock(g_secrets_mutex);
    for (const std::string& secret : g_secrets) {
      for (std::size_t at = out.find(secret); at != std::string::npos;
           at = out.find(secret, at + k_redacted.size()))
        out.replace(at, secret.size(), k_redacted);
    }
  }
  // By position, from the end so that earlier offsets stay valid.
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  auto keep = [&](std::size_t start, std::size_t end) {
    if (std::string_view(out).substr(start, end - start) != k_redacted)
      spans.emplace_back(start, end);
  };
  for_each_userinfo_password(out, keep);
  for_each_password_value(out, keep);
  std::ranges::sort(spans, std::greater{});
  std::size_t floor = std::string::npos;
  for (auto [start, end] : spans) {
    if (end > floor) continue;  // overlaps one already replaced
    out.replace(start, end - start, k_redacted);
    floor = start;
  }
  return out;
}

bool write_output(std::FILE* out, std::string_view text) {
  const std::string safe = redact(text);
  return std::fwrite(safe.data(), 1, safe.size(), out) == safe.size();
}

}  // namespace backfill
