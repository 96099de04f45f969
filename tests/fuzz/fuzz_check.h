// The fuzz targets' assertion: unlike assert, never compiled out, and it
// aborts, so that libFuzzer reports the input that broke the property.
#ifndef SNOWFLAKE_TESTS_FUZZ_FUZZ_CHECK_H_
#define SNOWFLAKE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                               \
  do {                                                                      \
    if (!(condition)) {                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #condition);                                             \
      std::abort();                                                         \
    }                                                                       \
  } while (false)

#endif  // SNOWFLAKE_TESTS_FUZZ_FUZZ_CHECK_H_
