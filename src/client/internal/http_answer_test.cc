#include "src/client/internal/http_answer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/status.h"

namespace snowflake::client::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kNode[] = "http://n:1";

std::string BigEndian(const std::vector<uint64_t>& ids) {
  std::string body;
  for (uint64_t id : ids) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      body.push_back(static_cast<char>(id >> shift));
    }
  }
  return body;
}

std::string ErrorJson(const std::string& code, const std::string& message) {
  return R"({"error":{"code":")" + code + R"(","message":")" + message +
         "\"}}\n";
}

TEST(HttpAnswerTest, TargetAsksForBinary) {
  EXPECT_EQ(IdsTarget(4096), "/v1/ids?count=4096&format=binary");
}

TEST(HttpAnswerTest, OkBodyIsBigEndianIds) {
  HttpAnswer answer{
      200, "application/octet-stream", "",
      BigEndian({1, 0x0102030405060708, (uint64_t{1} << 63) - 1})};
  absl::StatusOr<std::vector<uint64_t>> ids = IdsOfAnswer(answer, 3, kNode);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids,
              ElementsAre(1, 0x0102030405060708, (uint64_t{1} << 63) - 1));
}

TEST(HttpAnswerTest, OkBodyOfTheWrongSizeOrSignBitIsDataLoss) {
  HttpAnswer short_body{200, "application/octet-stream", "", BigEndian({1})};
  absl::StatusOr<std::vector<uint64_t>> ids = IdsOfAnswer(short_body, 2, kNode);
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("sent 8 bytes for 2 IDs"));
  HttpAnswer json{200, "application/json", "", R"({"ids":["1"]})"};
  EXPECT_EQ(IdsOfAnswer(json, 1, kNode).status().code(),
            absl::StatusCode::kDataLoss);
  HttpAnswer sign{200, "application/octet-stream", "",
                  BigEndian({uint64_t{1} << 63})};
  EXPECT_EQ(IdsOfAnswer(sign, 1, kNode).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(HttpAnswerTest, UnavailableCarriesRetryAfter) {
  HttpAnswer busy{503, "application/json", "2", ErrorJson("busy", "too many")};
  absl::Status status = ErrorOfAnswer(busy, kNode);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryDelayMillis(status), 2000);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("node http://n:1 answered 503 busy: too many"));

  HttpAnswer backwards{503, "application/json", "1",
                       ErrorJson("clock_backwards", "behind")};
  status = ErrorOfAnswer(backwards, kNode);
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kClockBackwards);
  EXPECT_EQ(GetRetryDelayMillis(status), 1000);

  // Without Retry-After (or with a date): the client's own back-off.
  HttpAnswer plain{503, "text/html", "", "<html>down</html>"};
  status = ErrorOfAnswer(plain, kNode);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(GetRetryDelayMillis(status).has_value());
  HttpAnswer dated{503, "", "Fri, 31 Dec 1999 23:59:59 GMT", ""};
  EXPECT_FALSE(GetRetryDelayMillis(ErrorOfAnswer(dated, kNode)).has_value());

  // A proxy's 502 and 504, and a 500 that says when to retry.
  for (int code : {502, 504}) {
    EXPECT_EQ(ErrorOfAnswer({code, "", "", ""}, kNode).code(),
              absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(
      ErrorOfAnswer({500, "", "3", ErrorJson("internal", "x")}, kNode).code(),
      absl::StatusCode::kUnavailable);
}

TEST(HttpAnswerTest, PermanentAnswersKeepTheirMeaning) {
  struct Case {
    int status;
    std::string code;
    absl::StatusCode expected;
  };
  const std::vector<Case> cases = {
      {400, "bad_request", absl::StatusCode::kInvalidArgument},
      {431, "header_too_large", absl::StatusCode::kInvalidArgument},
      {413, "too_large", absl::StatusCode::kOutOfRange},
      {404, "not_found", absl::StatusCode::kNotFound},
      {405, "method_not_allowed", absl::StatusCode::kUnimplemented},
      {500, "time_range_exhausted", absl::StatusCode::kFailedPrecondition},
      {500, "clock_before_epoch", absl::StatusCode::kFailedPrecondition},
      {500, "internal", absl::StatusCode::kInternal},
      {302, "", absl::StatusCode::kUnknown},
  };
  for (const Case& c : cases) {
    const absl::Status status =
        ErrorOfAnswer({c.status, "application/json", "",
                       c.code.empty() ? "moved" : ErrorJson(c.code, "why")},
                      kNode);
    EXPECT_EQ(status.code(), c.expected) << c.status << " " << c.code;
    EXPECT_FALSE(GetRetryDelayMillis(status).has_value());
  }
  const absl::Status too_large = ErrorOfAnswer(
      {413, "application/json", "",
       ErrorJson("too_large",
                 "count 200000 is above the largest batch, 100000")},
      kNode);
  EXPECT_THAT(std::string(too_large.message()),
              HasSubstr("413 too_large: count 200000 is above the largest "
                        "batch, 100000"));
  EXPECT_EQ(GetErrorKind(ErrorOfAnswer(
                {500, "", "", ErrorJson("time_range_exhausted", "x")}, kNode)),
            ErrorKind::kTimeRangeExhausted);
}

TEST(HttpAnswerTest, OddBodiesStayOneShortLine) {
  const absl::Status status =
      ErrorOfAnswer({500, "", "", std::string(1000, 'x') + "\n" + "y"}, kNode);
  EXPECT_LT(status.message().size(), 200u);
  EXPECT_EQ(std::string(status.message()).find('\n'), std::string::npos);
  const absl::Status typed = ErrorOfAnswer(
      {400, "", "", R"({"error":{"code":1,"message":[]}})"}, kNode);
  EXPECT_EQ(typed.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace snowflake::client::internal
