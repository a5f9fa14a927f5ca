#include "backfill/ledger.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "backfill/timestamp.h"
#include "ledger/sql_ledger.h"

namespace backfill {

std::string_view to_string(RunState state) {
  switch (state) {
    case RunState::k_running:
      return "running";
    case RunState::k_completed:
      return "completed";
    case RunState::k_interrupted:
      return "interrupted";
    case RunState::k_failed:
      return "failed";
    case RunState::k_superseded:
      return "superseded";
  }
  return "?";
}

namespace {

std::string proc_start_ticks(long pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return {};
  auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
}

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

Owner Owner::current() {
  long pid = static_cast<long>(getpid());
  return Owner{fmt::format("{}:{}:{}", host_name(), pid, proc_start_ticks(pid)), ""};
}

bool Owner::alive() const {
  auto last = id.rfind(':');
  auto mid = last == std::string::npos ? std::string::npos : id.rfind(':', last - 1);
  if (mid == std::string::npos) return true;  // not ours to judge
  if (id.substr(0, mid) != host_name()) {
    auto beat = parse_timestamp_text(heartbeat_at);
    auto now = parse_timestamp_text(now_utc_text());
    return !beat || !now || *now - *beat < k_stale_heartbeat_ms;
  }
  long pid = std::strtol(id.c_str() + mid + 1, nullptr, 10);
  std::string ticks = proc_start_ticks(pid);
  return !ticks.empty() && ticks == id.substr(last + 1);
}

std::unique_ptr<Ledger> ledger_in_store(Store& target) {
  Connection* sql = target.sql_connection();
  if (sql == nullptr) throw std::logic_error("the ledger kept in a store that speaks no SQL");
  return std::make_unique<SqlLedger>(*sql);
}

}  // namespace backfill
