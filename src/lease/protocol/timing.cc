#include "src/lease/protocol/timing.h"

#include <algorithm>

namespace snowflake::lease_protocol {

int64_t SafetyMarginMillis(int64_t ttl_millis) {
  return std::max<int64_t>(200, ttl_millis / 10);
}

int64_t KeepAlivePeriodMillis(int64_t ttl_millis) {
  return std::max<int64_t>(ttl_millis / 3, 100);
}

int64_t TakeoverWaitMillis(int64_t ttl_millis, int64_t max_clock_skew_millis) {
  // The interval itself, not KeepAlivePeriodMillis's floor: TTLs are whole
  // seconds, so the two differ only below 300 ms.
  return ttl_millis / 3 + SafetyMarginMillis(ttl_millis) +
         max_clock_skew_millis;
}

int64_t FencingDeadlineMicros(int64_t confirmed_micros, int64_t ttl_millis) {
  return confirmed_micros + ttl_millis * 1000 -
         SafetyMarginMillis(ttl_millis) * 1000;
}

int64_t TakeoverWaitForClaim(bool history, bool own_last, bool own_mark,
                             int64_t ttl_millis,
                             int64_t max_clock_skew_millis) {
  if (!history || own_last || own_mark) return 0;
  return TakeoverWaitMillis(ttl_millis, max_clock_skew_millis);
}

DeadlineView ViewDeadline(int64_t deadline_micros, int64_t now_micros,
                          bool held) {
  const int64_t left = deadline_micros - now_micros;
  return DeadlineView{std::max<int64_t>(left / 1000, 0), held && left <= 0};
}

}  // namespace snowflake::lease_protocol
