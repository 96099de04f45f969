#include "src/lease/protocol/claim_value.h"

#include <time.h>

#include "src/lease/cluster_schema.h"

namespace snowflake::lease_protocol {

std::string ClaimValue(const HolderInfo& info, int64_t worker_id,
                       int64_t session) {
  cluster_schema::Holder holder;
  holder.node = info.node;
  holder.worker_id = worker_id;
  holder.addresses = info.addresses;
  holder.region = info.region;
  holder.start_unix_millis = info.start_unix_millis;
  if (holder.start_unix_millis == 0) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    holder.start_unix_millis =
        static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
  holder.lease = session;
  return cluster_schema::EncodeHolder(holder);
}

}  // namespace snowflake::lease_protocol
