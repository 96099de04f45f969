#include "src/server/request_target.h"

#include "gtest/gtest.h"

namespace snowflake {
namespace {

TEST(RequestTargetTest, PathAndQuery) {
  auto t = ParseRequestTarget("/v1/ids?count=3&format=te%78t&flag&&a+b=c%20d");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/v1/ids");
  EXPECT_EQ(t->Get("count").value_or(""), "3");
  EXPECT_EQ(t->Get("format").value_or(""), "text");
  EXPECT_EQ(t->Get("flag").value_or("x"), "");
  EXPECT_EQ(t->Get("a b").value_or(""), "c d");
  EXPECT_FALSE(t->Get("missing").has_value());
}

TEST(RequestTargetTest, LastValueWins) {
  auto t = ParseRequestTarget("/x?a=1&a=2");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Get("a").value_or(""), "2");
}

TEST(RequestTargetTest, Errors) {
  EXPECT_FALSE(ParseRequestTarget("").ok());
  EXPECT_FALSE(ParseRequestTarget("http://host/x").ok());
  EXPECT_FALSE(ParseRequestTarget("/a%").ok());
  EXPECT_FALSE(ParseRequestTarget("/a%4").ok());
  EXPECT_FALSE(ParseRequestTarget("/a%g0").ok());
  EXPECT_FALSE(ParseRequestTarget("/a?x=%00").ok());
  EXPECT_FALSE(ParseRequestTarget("/a?%zz=1").ok());
}

TEST(RequestTargetTest, PlusIsLiteralInPath) {
  auto decoded = PercentDecode("a+b%2Bc", false);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "a+b+c");
}

}  // namespace
}  // namespace snowflake
