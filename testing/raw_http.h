// Test helper: a minimal blocking HTTP/1.1 client over a loopback socket,
// with keep-alive, and raw byte access for sending malformed requests.
#ifndef SNOWFLAKE_TESTING_RAW_HTTP_H_
#define SNOWFLAKE_TESTING_RAW_HTTP_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace snowflake::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // Lower-case names.
  std::string body;
  std::string Header(const std::string& name) const;
};

// One TCP connection to 127.0.0.1:port. Not thread-safe.
class RawHttpConnection {
 public:
  // A `receive_buffer_bytes` above 0 sets SO_RCVBUF, so that a peer's
  // large answer does not fit at once.
  explicit RawHttpConnection(int port, int receive_buffer_bytes = 0);
  ~RawHttpConnection();
  RawHttpConnection(const RawHttpConnection&) = delete;
  RawHttpConnection& operator=(const RawHttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // This end's port (0 if not connected).
  int local_port() const;
  // Writes all of `bytes`; false if the connection broke.
  bool Send(std::string_view bytes);
  // Reads one response (Content-Length framed); nullopt if the connection
  // closed or `timeout` passed first.
  std::optional<HttpReply> Read(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // GET with optional Accept, keep-alive.
  std::optional<HttpReply> Get(std::string_view target,
                               std::string_view accept = "",
                               std::string_view method = "GET");
  // True if the server closed the connection within `timeout` (reads and
  // drops whatever else arrives).
  bool WaitClosed(std::chrono::milliseconds timeout);
  void Close();

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
};

// One request on a fresh connection.
std::optional<HttpReply> HttpGet(int port, std::string_view target,
                                 std::string_view accept = "");

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_RAW_HTTP_H_
