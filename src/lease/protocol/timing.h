// The lease protocol's arithmetic of time (docs/operations.md, steps 6 and
// 7): the fencing deadline's margin, the keep-alive period and the takeover
// wait. Pure functions of the TTL, the same for every coordinator; times on
// the LeaseClock are microseconds, durations milliseconds.
#ifndef SNOWFLAKE_SRC_LEASE_PROTOCOL_TIMING_H_
#define SNOWFLAKE_SRC_LEASE_PROTOCOL_TIMING_H_

#include <cstdint>

namespace snowflake::lease_protocol {

// The fencing deadline's distance below the granted TTL: a tenth of it, at
// least 200 ms. It covers the gap between sending a keep-alive and the
// coordinator applying it, and a difference in clock rates.
int64_t SafetyMarginMillis(int64_t ttl_millis);

// How often the session is renewed: a third of the TTL, at least 100 ms.
int64_t KeepAlivePeriodMillis(int64_t ttl_millis);

// How long a node taking over an ID with history waits before issuing: one
// keep-alive interval and the margin, so that a holder whose claim vanished
// has renewed, learned it and stopped, plus the clock-skew bound, which
// covers that holder's clock being ahead.
int64_t TakeoverWaitMillis(int64_t ttl_millis, int64_t max_clock_skew_millis);

// When issuing stops being backed by a live session, on the LeaseClock:
// the send time of the request the coordinator confirmed, plus the TTL it
// reported, minus the margin. Renewals are sent one at a time, so a later
// one never lowers it.
int64_t FencingDeadlineMicros(int64_t confirmed_micros, int64_t ttl_millis);

// The takeover wait a fresh claim owes: none for an ID without history
// (no stored mark, no local floor), for the ID this node held last (its
// identity file), or when the stored mark is still the one this process
// wrote (nobody held the ID since); else TakeoverWaitMillis.
int64_t TakeoverWaitForClaim(bool history, bool own_last, bool own_mark,
                             int64_t ttl_millis, int64_t max_clock_skew_millis);

// What Info() shows of a deadline at `now_micros`.
struct DeadlineView {
  int64_t expires_in_millis = 0;  // Never negative.
  bool presumed_expired = false;  // Held, and the deadline has passed.
};
DeadlineView ViewDeadline(int64_t deadline_micros, int64_t now_micros,
                          bool held);

}  // namespace snowflake::lease_protocol

#endif  // SNOWFLAKE_SRC_LEASE_PROTOCOL_TIMING_H_
