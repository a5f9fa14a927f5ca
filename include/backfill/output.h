// Everything the tool prints or writes for people (terminal, --json,
// reports, progress, errors) passes through write_output(), which takes out
// every secret first. Secrets come from the job's URLs (their passwords) and
// from the environment variables a job names; the redaction also removes
// passwords from any URL-shaped text, such as a driver echoing a malformed URL.
// Thread contract: safe from any thread (the secrets are kept under a lock).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace backfill {

// The text put in place of a secret.
inline constexpr std::string_view k_redacted = "***";

// Remembers `secret` (and its percent-decoded form) for redact(). Thread-safe.
void add_secret(std::string_view secret);

// Remembers the password a database URL or keyword/value string holds, if any.
void add_url_secrets(std::string_view url);

// Forgets every remembered secret, for a process that loads many unrelated
// jobs (the fuzz targets).
void forget_secrets();

// `text` with every remembered secret, the password of every URL in it
// (scheme://user:password@) and every password=... replaced by k_redacted.
std::string redact(std::string_view text);

// Writes redact(text) to `out`. Returns false when the write failed.
bool write_output(std::FILE* out, std::string_view text);

}  // namespace backfill
