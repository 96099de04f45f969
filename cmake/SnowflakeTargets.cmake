# Small helpers so that each folder declares one target in a few lines.
include_guard(GLOBAL)

# snowflake_warnings(TARGET): what every first-party target is compiled
# with: the project's warnings, and the source root as a private include
# directory, so that "src/..." and "testing/..." resolve inside the project
# while only include/ is exported to a library's users.
function(snowflake_warnings target)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
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
  set_target_properties(${target} PROPERTIES SNOWFLAKE_WARNINGS ON)
endfunction()

# Marks a target of generated code (protoc's): it is compiled with -w, and
# the check below does not ask for snowflake_warnings() on it.
function(snowflake_generated target)
  target_compile_options(${target} PRIVATE -w)
  set_target_properties(${target} PROPERTIES SNOWFLAKE_WARNINGS generated)
endfunction()

# -Wthread-safety (and -Werror) only help on the targets that get them: at
# the end of configuring, every target the project compiles must have gone
# through snowflake_warnings() or snowflake_generated(). Third-party headers
# need nothing here: they come through imported targets or /usr/include,
# both system include directories, whose warnings compilers do not report.
function(snowflake_check_warnings)
  set(dirs ${PROJECT_SOURCE_DIR})
  set(missing)
  while(dirs)
    list(POP_FRONT dirs dir)
    get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
    list(APPEND dirs ${subdirs})
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      get_target_property(warnings ${target} SNOWFLAKE_WARNINGS)
      if(type MATCHES "^(EXECUTABLE|(STATIC|SHARED|MODULE|OBJECT)_LIBRARY)$"
         AND NOT warnings)
        list(APPEND missing ${target})
      endif()
    endforeach()
  endwhile()
  if(missing)
    list(JOIN missing ", " missing)
    message(WARNING "Targets built without the project's warnings (and "
      "without -Wthread-safety under clang): ${missing}. Call "
      "snowflake_warnings(<target>) after creating each.")
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR}
               CALL snowflake_check_warnings)

# snowflake_library(NAME SOURCES ... DEPS ...)
function(snowflake_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
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
