// The TOML file: each key checked against the settings table and turned
// into the text a flag or an environment variable would carry.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "src/base/strings.h"
#include "src/server/internal/settings.h"
#include "toml++/toml.h"

namespace snowflake::internal {

using base::Append;
using base::Cat;

namespace {

// File keys that were renamed: an old file gets the new name in its error
// rather than a bare "unknown key".
struct Renamed {
  std::string_view old_key;
  std::string_view new_key;
};
constexpr Renamed kRenamedKeys[] = {
    {"etcd.cluster", "worker.cluster"},  // Shared by every coordinator.
};

std::string UnknownKeyMessage(const std::string& key,
                              const std::string& where) {
  for (const Renamed& renamed : kRenamedKeys) {
    if (key != renamed.old_key) continue;
    const std::string_view section = SectionOf(renamed.new_key);
    return Cat("unknown key \"", key, "\" (", where, "): renamed to ",
               renamed.new_key, " (in [", section,
               "]: ", renamed.new_key.substr(section.size() + 1), " = ...)");
  }
  return Cat("unknown key \"", key, "\" (", where, ")");
}

}  // namespace

// Reads the TOML file into key -> (text, "file F line N").
absl::Status ReadSettingsFile(const std::string& path,
                              std::map<std::string, Found>& out) {
  // A directory or a device parses as an empty file: every setting would
  // silently take its default.
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    const int error = errno;
    const std::string why = std::strerror(error);
    if (error == ENOENT || error == ENOTDIR) {
      return absl::NotFoundError(Cat("config file ", path, ": ", why));
    }
    return absl::InvalidArgumentError(
        Cat("config file ", path, ": unreadable: ", why));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        Cat("config file ", path, ": not a regular file (",
            S_ISDIR(info.st_mode) ? "a directory" : "a device, pipe or socket",
            ")"));
  }
  if (access(path.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        Cat("config file ", path, ": unreadable: ", std::strerror(errno)));
  }
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) {
      return absl::NotFoundError(
          Cat("config file ", path, ": ", e.description()));
    }
    return absl::InvalidArgumentError(Cat("config file ", path, " line ",
                                          e.source().begin.line, ": ",
                                          e.description()));
  }
  absl::Status status;
  auto visit = [&](const std::string& key, const toml::node& node) {
    const int line = static_cast<int>(node.source().begin.line);
    const std::string where = Cat("file ", path, " line ", line);
    const Setting* setting = FindSetting(key);
    if (setting == nullptr) {
      status.Update(absl::InvalidArgumentError(UnknownKeyMessage(key, where)));
      return;
    }
    std::string text;
    bool type_ok = false;
    if (const auto* v = node.as_string()) {
      text = v->get();
      type_ok =
          setting->kind == Kind::kString || setting->kind == Kind::kRegions;
    } else if (const auto* v = node.as_integer()) {
      text = Cat(v->get());
      type_ok = setting->kind == Kind::kInt || setting->kind == Kind::kString;
    } else if (const auto* v = node.as_boolean()) {
      text = v->get() ? "true" : "false";
      type_ok = setting->kind == Kind::kBool;
    } else if (const auto* v = node.as_date_time()) {
      const toml::date_time& dt = v->get();
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d%s",
                    dt.date.year, dt.date.month, dt.date.day, dt.time.hour,
                    dt.time.minute, dt.time.second,
                    dt.offset && dt.offset->minutes == 0 ? "Z" : "");
      text = buf;
      type_ok = key == "layout.epoch" && dt.offset && dt.offset->minutes == 0;
    } else if (const auto* v = node.as_date()) {
      const toml::date& d = v->get();
      char buf[16];
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", d.year, d.month, d.day);
      text = buf;
      type_ok = key == "layout.epoch";
    } else if (node.is_floating_point()) {
      text = Cat(node.as_floating_point()->get() > 0 ? "(a number)" : "");
    } else {
      text = "(table or array)";
    }
    if (!type_ok) {
      const char* want = setting->kind == Kind::kInt    ? "an integer"
                         : setting->kind == Kind::kBool ? "true or false"
                         : setting->kind == Kind::kRegions
                             ? "a table of NAME = \"A-B\""
                             : "a string";
      status.Update(absl::InvalidArgumentError(
          Cat(key, " = ", text, " (", where, "): must be ", want)));
      return;
    }
    out[key] = Found{std::move(text), where};
  };
  // [regions] us = "0-341": one setting, in the flag's syntax.
  auto visit_regions = [&](const toml::table& regions) {
    int line = static_cast<int>(regions.source().begin.line);
    std::string text;
    for (const auto& [name, node] : regions) {
      const int entry_line = static_cast<int>(node.source().begin.line);
      if (line == 0) line = entry_line;
      const auto* range = node.as_string();
      if (range == nullptr) {
        status.Update(absl::InvalidArgumentError(
            Cat(kRegionsKey, ".", name.str(), " (file ", path, " line ",
                entry_line, "): must be a string \"A-B\", e.g. \"0-341\"")));
        return;
      }
      if (!text.empty()) text += ",";
      Append(text, name.str(), "=", range->get());
    }
    out[std::string(kRegionsKey)] =
        Found{std::move(text), Cat("file ", path, " line ", line)};
  };
  for (const auto& [name, node] : table) {
    const std::string key(name.str());
    if (key == kRegionsKey && node.is_table()) {
      visit_regions(*node.as_table());
    } else if (const toml::table* section = node.as_table()) {
      for (const auto& [sub_name, sub_node] : *section) {
        visit(Cat(key, ".", sub_name.str()), sub_node);
      }
    } else {
      visit(key, node);
    }
  }
  return status;
}

}  // namespace snowflake::internal
