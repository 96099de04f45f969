// Reading a request's head with Boost.Beast, in one place for the listener
// and the HTTP fuzz test: the parser's limits, parsing a head from the
// connection's buffer, the HttpRequest the handler sees, and whether the
// request declares a body (never read).
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_REQUEST_HEAD_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_REQUEST_HEAD_H_

#include <cstddef>
#include <cstdint>

#include "boost/beast/core/error.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/parser.hpp"
#include "src/server/http_handler.h"

namespace snowflake::internal {

// Reads the request line and headers only: no route takes a body.
using RequestParser =
    boost::beast::http::request_parser<boost::beast::http::empty_body>;

// Sets the limits of a fresh `parser`: the request line and headers up to
// `max_header_bytes` (beyond: http::error::header_limit), and no body limit
// (the body is never read; DeclaresBody judges it, so that a POST with a
// body gets its 405 rather than a 413 from the parser).
void ConfigureRequestParser(RequestParser& parser, int64_t max_header_bytes);

// What one read of a connection asks of the socket (the listener's, and
// the HTTP fuzz target's); a head longer than that takes several reads.
inline constexpr size_t kHeadReadBytes = 4096;

// Parses the head of the request at the front of `buffer` and consumes
// it, leaving what follows (a body, never read, or pipelined requests).
// Returns http::error::need_more while the head is incomplete (read more
// into `buffer` and call again with the same parser), no error once the
// head is whole, or another http::error: a malformed request, answered
// with 400 (431 for http::error::header_limit) before the close.
boost::beast::error_code ParseHead(RequestParser& parser,
                                   boost::beast::flat_buffer& buffer);

// The handler's view of a parsed head: method, target and Accept. The views
// point into `parser`'s message, valid until the parser is reset or
// destroyed.
HttpRequest ToHttpRequest(const RequestParser& parser);

// True if the parsed request declares a body: any Transfer-Encoding (chunked
// or not: an unknown coding is a body of unknown length, never "no body"),
// or a Content-Length above limits::kMaxBodyBytes. Such a request is
// answered from its head, and its connection closed.
bool DeclaresBody(const RequestParser& parser);

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_REQUEST_HEAD_H_
