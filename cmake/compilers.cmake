# Compiler-specific warnings, included by the top-level CMakeLists.txt after the common
# warning options.

# Clang checks the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations of every
# mutex-protected member (GCC ignores them).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-Wthread-safety)
endif()
