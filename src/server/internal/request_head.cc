#include "src/server/internal/request_head.h"

#include <charconv>
#include <limits>
#include <string_view>
#include <system_error>

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

boost::beast::error_code ParseHead(RequestParser& parser,
                                   boost::beast::flat_buffer& buffer) {
  boost::beast::error_code ec;
  buffer.consume(parser.put(buffer.data(), ec));
  return ec;
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
  // Read from the field the parser has already checked, not through
  // parser.content_length(): GCC's -O1 sanitizer builds report Boost's
  // optional inside it as maybe-uninitialized.
  const auto field = request.find(http::field::content_length);
  if (field != request.end()) {
    const auto value = field->value();
    uint64_t length = 0;
    const auto [end, ec] =
        std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec != std::errc() || end != value.data() + value.size() ||
        length > static_cast<uint64_t>(limits::kMaxBodyBytes)) {
      return true;
    }
  }
  return !parser.is_done();
}

}  // namespace snowflake::internal
