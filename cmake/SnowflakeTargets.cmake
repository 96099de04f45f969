# Small helpers so that each folder declares one target in a few lines.

function(snowflake_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(SNOWFLAKE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports false -Wrestrict overlaps inside std::string at -O2
    # (GCC bug 105329); the code it points at is libstdc++'s.
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
endfunction()

# snowflake_library(NAME SOURCES ... DEPS ...)
function(snowflake_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                            ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  snowflake_warnings(${name})
endfunction()

# snowflake_test(NAME [SERIAL] SOURCES ... DEPS ... [LABELS ...]): a
# GoogleTest binary under CTest, labelled "unit" unless LABELS says otherwise.
function(snowflake_test name)
  if(NOT SNOWFLAKE_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "SERIAL" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock
                                        GTest::gtest_main)
  snowflake_warnings(${name})
  include(GoogleTest)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  # SERIAL: timing-sensitive tests (short leases, fencing deadlines) that
  # must not share the machine's cores with other tests under ctest -j.
  if(ARG_SERIAL)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS
                         "${ARG_LABELS}" RUN_SERIAL TRUE)
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS
                         "${ARG_LABELS}")
  endif()
endfunction()
