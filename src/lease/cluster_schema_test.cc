#include "src/lease/cluster_schema.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snowflake::cluster_schema {
namespace {

TEST(ClusterSchemaTest, Keys) {
  EXPECT_EQ(ConfigKey("/snowflake", "prod"), "/snowflake/prod/config");
  EXPECT_EQ(WorkerKey("/snowflake", "prod", 17), "/snowflake/prod/workers/17");
  EXPECT_EQ(HwmKey("/p", "c", 0), "/p/c/hwm/0");
  EXPECT_EQ(NodeKey("/p", "c", "n1"), "/p/c/nodes/n1");
  EXPECT_EQ(IdOfKey("/p/c/workers/1023"), 1023);
  EXPECT_FALSE(IdOfKey("/p/c/workers/x1").has_value());
  EXPECT_FALSE(IdOfKey("/p/c/workers/").has_value());
  EXPECT_FALSE(IdOfKey("/p/c/workers/-1").has_value());
}

TEST(ClusterSchemaTest, HolderRoundTrip) {
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

TEST(ClusterSchemaTest, HolderWithInvalidUtf8IsEncodedNotThrown) {
  Holder holder;
  holder.node = "node-\xff";
  holder.region = "eu-\xc3";
  std::string text;
  ASSERT_NO_THROW(text = EncodeHolder(holder));
  auto back = DecodeHolder(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->node, "node-\xef\xbf\xbd");  // U+FFFD
}

TEST(ClusterSchemaTest, BadValuesAreDataLoss) {
  EXPECT_EQ(DecodeHolder("not json").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHolder("{\"lease\":12}").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHwm("12a").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHwm("-5").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHwm(EncodeHwm(1795995095725)).value(), 1795995095725);
}

TEST(ClusterSchemaTest, ClusterConfigWithoutRegionsIsTheLayoutText) {
  // What every cluster stored before region maps: old nodes keep agreeing.
  const Layout layout;
  EXPECT_EQ(EncodeClusterConfig(layout, RegionMap()), layout.ToString());
  EXPECT_EQ(EncodeClusterConfig(layout, RegionMap()),
            "41/10/12 unit=1ms epoch=1735689600000");
  absl::StatusOr<ClusterConfig> old =
      DecodeClusterConfig("41/10/12 unit=1ms epoch=1735689600000");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->layout, "41/10/12 unit=1ms epoch=1735689600000");
  EXPECT_EQ(old->regions, "");
}

TEST(ClusterSchemaTest, ClusterConfigWithRegionsRoundTrips) {
  const Layout layout;
  const RegionMap regions =
      RegionMap::Parse("us=0-341,eu=342-683,ap=684-1023").value();
  const std::string text = EncodeClusterConfig(layout, regions);
  EXPECT_EQ(text,
            "41/10/12 unit=1ms epoch=1735689600000; "
            "regions=ap=684-1023,eu=342-683,us=0-341");
  absl::StatusOr<ClusterConfig> back = DecodeClusterConfig(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->layout, layout.ToString());
  EXPECT_EQ(back->regions, regions.ToString());
  EXPECT_EQ(*back, (ClusterConfig{layout.ToString(), regions.ToString()}));

  // Written by hand or another tool: the map comes back canonical.
  absl::StatusOr<ClusterConfig> loose = DecodeClusterConfig(
      "41/10/12 unit=1ms epoch=1735689600000 ;regions = us=0-341, eu=342-683");
  ASSERT_TRUE(loose.ok()) << loose.status();
  EXPECT_EQ(loose->layout, "41/10/12 unit=1ms epoch=1735689600000");
  EXPECT_EQ(loose->regions, "eu=342-683,us=0-341");
  // An empty map is no map.
  EXPECT_EQ(DecodeClusterConfig("41/10/12; regions=").value().regions, "");
}

TEST(ClusterSchemaTest, BadClusterConfigs) {
  for (const char* text :
       {"", " ", "; regions=us=0-1", "41/10/12; regions", "41/10/12; =x",
        "41/10/12; regions=us=5-1", "41/10/12; regions=us=0-9,eu=5-20",
        "41/10/12; regions=us=0-1; regions=eu=2-3", "41/10/12;"}) {
    absl::StatusOr<ClusterConfig> config = DecodeClusterConfig(text);
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kDataLoss) << text;
    EXPECT_THAT(std::string(config.status().message()),
                ::testing::HasSubstr("cluster config \"" + std::string(text)))
        << text;
  }
  // A field a newer version added: refused, not ignored.
  absl::StatusOr<ClusterConfig> newer = DecodeClusterConfig(
      "41/10/12 unit=1ms epoch=1735689600000; regions=us=0-1; shards=4");
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(newer.status().message()),
              ::testing::HasSubstr("unknown field \"shards\""));
}

}  // namespace
}  // namespace snowflake::cluster_schema
