#include "backfill/run_env.h"

#include <algorithm>
#include <thread>

#include "backfill/connector.h"
#include "backfill/ledger.h"

namespace backfill {

void RunEnv::sleep(std::chrono::milliseconds duration, const std::atomic<int>* stop) const {
  // In short steps, so that a stop signal ends the wait within 50 ms.
  const auto until = now() + duration;
  const auto step = std::min(duration, std::chrono::milliseconds(50));
  while (now() < until && (stop == nullptr || stop->load() == 0)) std::this_thread::sleep_for(step);
}

bool RunEnv::alive(const Owner& owner) const {
  return owner.alive();
}

const Connector& RunEnv::connector_for(std::string_view url) const {
  return backfill::connector_for(url);
}

const RunEnv& RunEnv::process() {
  static const RunEnv env;
  return env;
}

}  // namespace backfill
