#include "src/server/internal/rpc_error.h"

#include <algorithm>
#include <optional>

#include "google/protobuf/duration.pb.h"
#include "snowflake/status.h"
#include "snowflake/v1/id_service.pb.h"
#include "src/base/strings.h"
#include "src/server/http_handler.h"

namespace snowflake::internal {
namespace {

// Length of the valid UTF-8 sequence at the start of `s` (not empty), 0 if
// it is none (overlong forms, surrogates, code points above U+10FFFF).
size_t Utf8Length(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t code = 0;
  if ((lead & 0xe0) == 0xc0) {
    length = 2;
    code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    code = code << 6 | (byte(i) & 0x3f);
  }
  constexpr uint32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinOfLength[length] || code > 0x10ffff ||
      (code >= 0xd800 && code <= 0xdfff)) {
    return 0;
  }
  return length;
}

}  // namespace

std::string ToValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const size_t length = Utf8Length(text);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD.
      text.remove_prefix(1);
    } else {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return out;
}

RpcError ToRpcError(const absl::Status& status) {
  const HttpError error = status.code() == absl::StatusCode::kOutOfRange &&
                                  GetErrorKind(status) == ErrorKind::kNone
                              ? HttpError::kBatchTooLarge
                              : HttpErrorFor(status);
  const HttpErrorInfo& row = HttpErrorInfoFor(error);
  RpcError out;
  out.code = status.code();
  out.message = ToValidUtf8(base::StdView(status.message()));
  if (row.retryable) {
    const std::optional<int64_t> recorded = GetRetryDelayMillis(status);
    out.retry_after_millis =
        std::max<int64_t>(recorded.value_or(row.retry_after_seconds * 1000), 1);
  }

  v1::ErrorStatus details;
  details.set_code(static_cast<int32_t>(out.code));
  details.set_message(out.message);
  v1::ErrorInfo info;
  info.set_reason(std::string(row.code));
  info.set_domain(kErrorDomain);
  details.add_details()->PackFrom(info);
  if (out.retry_after_millis > 0) {
    v1::RetryInfo retry;
    retry.mutable_retry_delay()->set_seconds(out.retry_after_millis / 1000);
    retry.mutable_retry_delay()->set_nanos(
        static_cast<int32_t>(out.retry_after_millis % 1000 * 1'000'000));
    details.add_details()->PackFrom(retry);
  }
  out.details = details.SerializeAsString();
  return out;
}

}  // namespace snowflake::internal
