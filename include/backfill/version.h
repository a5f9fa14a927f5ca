// The release of this backfill, set once in CMakeLists.txt (project VERSION).
#pragma once

#include <string_view>

namespace backfill {

inline constexpr std::string_view k_version = BACKFILL_VERSION;

}  // namespace backfill
