#include "src/server/logging.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "spdlog/formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace snowflake {
namespace {

using Json = nlohmann::ordered_json;

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// Length of the `key=` at the start of `text` (without the '='); 0 if none.
size_t KeyLength(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && IsKeyChar(text[i])) ++i;
  return i > 0 && i < text.size() && text[i] == '=' ? i : 0;
}

// Whether a closing quote just before `at` ends the value: the message ends
// there or the next field begins.
bool EndsValue(std::string_view text, size_t at) {
  if (at == text.size()) return true;
  if (text[at] != ' ') return false;
  while (at < text.size() && text[at] == ' ') ++at;
  return at == text.size() || KeyLength(text.substr(at)) > 0;
}

// A canonical decimal int64 ("0", "42", "-7"; not "007" or "+1").
bool AsInteger(std::string_view text, int64_t& out) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) {
    return false;
  }
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

void Add(Json& out, std::string key, Json value) {
  if (out.contains(key)) {
    for (int n = 2;; ++n) {
      std::string candidate = key + "_" + std::to_string(n);
      if (!out.contains(candidate)) {
        key = std::move(candidate);
        break;
      }
    }
  }
  out[key] = std::move(value);
}

// Renders each record with JsonLogLine; spdlog's pattern cannot escape.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
        since_epoch - seconds);
    const std::time_t t = static_cast<std::time_t>(seconds.count());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[96];
    std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, static_cast<int>(millis.count()));
    const spdlog::string_view_t level =
        spdlog::level::to_string_view(msg.level);
    const std::string line =
        JsonLogLine(ts, std::string_view(level.data(), level.size()),
                    std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::string JsonLogLine(std::string_view ts, std::string_view level,
                        std::string_view message) {
  Json out = Json::object();
  out["ts"] = std::string(ts);
  out["level"] = std::string(level);
  std::string free_text;
  size_t i = 0;
  while (i < message.size()) {
    if (message[i] == ' ') {
      ++i;
      continue;
    }
    const std::string_view rest = message.substr(i);
    const size_t key_length = KeyLength(rest);
    if (key_length == 0) {
      const size_t end = std::min(rest.find(' '), rest.size());
      if (!free_text.empty()) free_text += ' ';
      free_text.append(rest.substr(0, end));
      i += end;
      continue;
    }
    std::string key(rest.substr(0, key_length));
    size_t at = key_length + 1;
    if (at < rest.size() && rest[at] == '"') {
      std::string value;
      ++at;
      // Unterminated: the rest of the line is the value.
      while (at < rest.size()) {
        const char c = rest[at];
        if (c == '\\' && at + 1 < rest.size() &&
            (rest[at + 1] == '"' || rest[at + 1] == '\\')) {
          value += rest[at + 1];
          at += 2;
        } else if (c == '"' && EndsValue(rest, at + 1)) {
          ++at;
          break;
        } else {
          value += c;
          ++at;
        }
      }
      Add(out, std::move(key), Json(std::move(value)));
    } else {
      const size_t end = std::min(rest.find(' ', at), rest.size());
      const std::string_view value = rest.substr(at, end - at);
      int64_t number = 0;
      if (AsInteger(value, number)) {
        Add(out, std::move(key), Json(number));
      } else {
        Add(out, std::move(key), Json(std::string(value)));
      }
      at = end;
    }
    i += at;
  }
  if (!free_text.empty()) Add(out, "msg", Json(std::move(free_text)));
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void SetUpLogging(std::string_view level, std::string_view format) {
  auto logger = spdlog::stderr_logger_mt("snowflaked");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                        spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace snowflake
