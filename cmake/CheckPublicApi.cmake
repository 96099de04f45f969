# A CTest script (src/core's core_public_api test): the library's users get
# include/snowflake/ and nothing else.
#   - every public header compiles on its own with only include/ (and the
#     system's headers) on the include path, so none reaches into src/;
#   - the headers are the documented public API, no more (a header that is
#     only there for a private member of another belongs in src/);
#   - snowflake_core exports include/ alone as its include directory, never
#     the source root.
# Called with -DCXX=<compiler> -DSOURCE_DIR=<root> -DEXPORTED=<dirs, |-joined>.
set(expected client.h clock.h generator.h id.h layout.h status.h)

set(report "")
file(GLOB headers RELATIVE ${SOURCE_DIR}/include/snowflake
     ${SOURCE_DIR}/include/snowflake/*.h)
list(SORT headers)
if(NOT headers STREQUAL expected)
  list(JOIN headers ", " held)
  list(JOIN expected ", " api)
  string(APPEND report "include/snowflake/ holds ${held}; the public API "
                       "is ${api}: move the others into src/\n")
endif()

foreach(header IN LISTS headers)
  execute_process(
    COMMAND ${CXX} -std=c++20 -fsyntax-only -x c++
            -I ${SOURCE_DIR}/include ${SOURCE_DIR}/include/snowflake/${header}
    RESULT_VARIABLE rc
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(APPEND report "snowflake/${header} does not compile alone with "
                         "only include/ on the path:\n${err}\n")
  endif()
endforeach()

# The property is transitive (Abseil's /usr/include comes with it); what
# matters is which of this repository's directories are in it.
string(REPLACE "|" ";" exported "${EXPORTED}")
list(REMOVE_DUPLICATES exported)
set(ours)
foreach(dir IN LISTS exported)
  cmake_path(IS_PREFIX SOURCE_DIR "${dir}" NORMALIZE inside)
  if(inside)
    list(APPEND ours "${dir}")
  endif()
endforeach()
if(NOT ours STREQUAL "${SOURCE_DIR}/include")
  list(JOIN ours ", " shown)
  string(APPEND report "snowflake_core exports the include directories "
                       "${shown} of the repository, not include/ alone\n")
endif()

if(report)
  message(FATAL_ERROR "${report}")
endif()
list(LENGTH headers count)
message(STATUS "public API: ${count} headers, each compiles alone; "
               "exported include directory: include/")
