// The status page every node serves at GET / and /status: one
// self-contained HTML document (no external scripts, fonts or styles) whose
// script polls GET /v1/status once a second. Its source is
// src/server/status_page.html, compiled in by src/server/CMakeLists.txt.
#ifndef SNOWFLAKE_SRC_SERVER_STATUS_PAGE_H_
#define SNOWFLAKE_SRC_SERVER_STATUS_PAGE_H_

#include <string_view>

namespace snowflake {

// The page, UTF-8; a constant that lives as long as the program.
std::string_view StatusPageHtml();

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_STATUS_PAGE_H_
