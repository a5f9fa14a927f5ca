// For engine steps where any failure is fatal: unwraps a Result or throws.
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <type_traits>

#include "backfill/error.h"

namespace backfill {

// The value of `r`, or Error(k_failed) saying what failed `during`.
template <class T>
T value_or_throw(Result<T> r, std::string_view during) {
  if (!r) {
    throw Error(ExitCode::k_failed, fmt::format("{}: {}", during, r.error().message),
                r.error().hint.empty()
                    ? "run again; if it fails the same way, check the server's log"
                    : r.error().hint);
  }
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

}  // namespace backfill
