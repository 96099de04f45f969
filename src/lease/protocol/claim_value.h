// What a claim holds on every coordinator: the holder's JSON
// (cluster_schema::Holder), bound to its session.
#ifndef SNOWFLAKE_SRC_LEASE_PROTOCOL_CLAIM_VALUE_H_
#define SNOWFLAKE_SRC_LEASE_PROTOCOL_CLAIM_VALUE_H_

#include <cstdint>
#include <string>

#include "src/lease/protocol/coordinator.h"

namespace snowflake::lease_protocol {

// The value of workers/<worker_id> for `holder` on `session`; its start
// time is now (wall clock) when the holder gives none.
std::string ClaimValue(const HolderInfo& holder, int64_t worker_id,
                       int64_t session);

}  // namespace snowflake::lease_protocol

#endif  // SNOWFLAKE_SRC_LEASE_PROTOCOL_CLAIM_VALUE_H_
