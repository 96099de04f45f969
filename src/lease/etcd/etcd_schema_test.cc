#include "src/lease/etcd/etcd_schema.h"

#include "gtest/gtest.h"

namespace snowflake::etcd_schema {
namespace {

TEST(EtcdSchemaTest, Keys) {
  EXPECT_EQ(ConfigKey("/snowflake", "prod"), "/snowflake/prod/config");
  EXPECT_EQ(WorkerKey("/snowflake", "prod", 17), "/snowflake/prod/workers/17");
  EXPECT_EQ(HwmKey("/p", "c", 0), "/p/c/hwm/0");
  EXPECT_EQ(NodeKey("/p", "c", "n1"), "/p/c/nodes/n1");
  EXPECT_EQ(IdOfKey("/p/c/workers/1023"), 1023);
  EXPECT_FALSE(IdOfKey("/p/c/workers/x1").has_value());
  EXPECT_FALSE(IdOfKey("/p/c/workers/").has_value());
  EXPECT_FALSE(IdOfKey("/p/c/workers/-1").has_value());
}

TEST(EtcdSchemaTest, HolderRoundTrip) {
  Holder holder{"node-a",
                5,
                {"127.0.0.1:8080", "10.0.0.1:8080"},
                "eu",
                1795995095725,
                7587869191244453765};
  absl::StatusOr<Holder> back = DecodeHolder(EncodeHolder(holder));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->node, "node-a");
  EXPECT_EQ(back->worker_id, 5);
  EXPECT_EQ(back->addresses, holder.addresses);
  EXPECT_EQ(back->region, "eu");
  EXPECT_EQ(back->start_unix_millis, 1795995095725);
  EXPECT_EQ(back->lease, 7587869191244453765);
}

TEST(EtcdSchemaTest, BadValuesAreDataLoss) {
  EXPECT_EQ(DecodeHolder("not json").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHolder("{\"lease\":12}").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHwm("12a").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHwm("-5").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHwm(EncodeHwm(1795995095725)).value(), 1795995095725);
}

}  // namespace
}  // namespace snowflake::etcd_schema
