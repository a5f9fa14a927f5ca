#include <fmt/format.h>

#include <cstdlib>

#include "backfill/error.h"
#include "backfill/job.h"

namespace backfill {

std::string expand_path(std::string_view text, std::string_view what) {
  std::string out;
  std::size_t i = 0;
  if (!text.empty() && text[0] == '~' && (text.size() == 1 || text[1] == '/')) {
    const char* home = std::getenv("HOME");
    if (home == nullptr) {
      throw Error(ExitCode::k_job_invalid, fmt::format("{}: '~' used but HOME is not set", what),
                  "set HOME or write the full path");
    }
    out = home;
    i = 1;
  }
  while (i < text.size()) {
    if (text.compare(i, 2, "${") == 0) {
      std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        throw Error(ExitCode::k_job_invalid,
                    fmt::format("{}: unterminated '${{' in '{}'", what, text),
                    "write variables as ${NAME}");
      }
      std::string name(text.substr(i + 2, close - i - 2));
      const char* value = std::getenv(name.c_str());
      if (value == nullptr) {
        throw Error(
            ExitCode::k_job_invalid,
            fmt::format("{}: environment variable {} is not set (in '{}')", what, name, text),
            fmt::format("export {}=... or override the value with --set", name));
      }
      out += value;
      i = close + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace backfill
