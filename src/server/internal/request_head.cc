#include "src/server/internal/request_head.h"

#include <limits>
#include <string_view>

#include "boost/beast/http/error.hpp"
#include "boost/beast/http/field.hpp"
#include "boost/beast/http/verb.hpp"
#include "src/server/limits.h"

namespace snowflake::internal {
namespace {

namespace http = boost::beast::http;

std::string_view Std(boost::beast::string_view s) {
  return {s.data(), s.size()};
}

}  // namespace

void ConfigureRequestParser(RequestParser& parser, int64_t max_header_bytes) {
  parser.header_limit(static_cast<uint32_t>(max_header_bytes));
  parser.body_limit(std::numeric_limits<uint64_t>::max());
}

HttpRequest ToHttpRequest(const RequestParser& parser) {
  const auto& request = parser.get();
  HttpRequest req;
  req.method = Std(request.method_string());
  req.target = Std(request.target());
  const auto accept = request.find(http::field::accept);
  if (accept != request.end()) req.accept = Std(accept->value());
  return req;
}

bool DeclaresBody(const RequestParser& parser) {
  const auto& request = parser.get();
  if (request.find(http::field::transfer_encoding) != request.end()) {
    return true;
  }
  const auto length = parser.content_length();
  if (length && *length > static_cast<uint64_t>(limits::kMaxBodyBytes)) {
    return true;
  }
  return !parser.is_done();
}

bool IsMalformedRequest(const boost::beast::error_code& ec) {
  return ec.category() ==
             boost::beast::error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

}  // namespace snowflake::internal
