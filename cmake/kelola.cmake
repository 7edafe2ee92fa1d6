# Helpers shared by every CMakeLists.txt of the project.

# kelola_library(NAME SRCS a.cc b.cc DEPS x y)
# A static library whose headers are included as "libs/<area>/<file>.h" from the repository root.
function(kelola_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/protos)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# kelola_test(NAME SRCS a_test.cc DEPS x y [LABELS l])
# A GoogleTest binary registered with CTest.
function(kelola_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/protos)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "KELOLA_BUILD_DIR=${PROJECT_BINARY_DIR};KELOLA_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# A service binary: links jemalloc as the allocator (docs/decisions/allocator.md) unless a
# sanitizer build brings its own.
function(kelola_service name)
  add_executable(${name} ${ARGN})
  if(NOT KELOLA_SANITIZE)
    find_library(KELOLA_JEMALLOC NAMES jemalloc REQUIRED)
    target_link_libraries(${name} PRIVATE ${KELOLA_JEMALLOC})
  endif()
endfunction()
