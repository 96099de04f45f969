// What the fuzz targets share: their assertion (unlike assert, never
// compiled out, and it aborts, so that libFuzzer reports the input that
// broke the property) and a scratch directory.
#ifndef SNOWFLAKE_TESTS_FUZZ_FUZZ_CHECK_H_
#define SNOWFLAKE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#define FUZZ_CHECK(condition)                                               \
  do {                                                                      \
    if (!(condition)) {                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #condition);                                             \
      std::abort();                                                         \
    }                                                                       \
  } while (false)

namespace snowflake::fuzz {

// A fresh directory "snowflake-<name>-fuzz-XXXXXX" under the temporary
// directory, made on the first call and removed at exit (after the exit
// handlers registered later, such as a fixture writing into it).
inline const std::string& ScratchDir(const char* name) {
  static const std::string* dir = [name] {
    std::string path = (std::filesystem::temp_directory_path() /
                        (std::string("snowflake-") + name + "-fuzz-XXXXXX"))
                           .string();
    if (mkdtemp(path.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    auto* made = new std::string(path);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(*dir, ec);
    });
    return made;
  }();
  return *dir;
}

}  // namespace snowflake::fuzz

#endif  // SNOWFLAKE_TESTS_FUZZ_FUZZ_CHECK_H_
