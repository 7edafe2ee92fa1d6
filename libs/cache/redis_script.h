#pragma once

// A Lua script for EVALSHA: its source and the SHA1 Redis names it by, computed once.

#include <string>

namespace kelola::cache {

class RedisScript {
 public:
  explicit RedisScript(std::string source);

  const std::string& source() const { return source_; }
  // 40 lower-case hex digits, as SCRIPT LOAD answers.
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace kelola::cache
