/* SPDX-License-Identifier: BSD-3-Clause */
/* Hex helpers for the test drivers that talk to interop scripts. */
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "codec/endian.h"

namespace mipvpn::test {

inline bool from_hex(const std::string& s, std::vector<std::byte>* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(s.c_str() + i, "%2x", &v) != 1) return false;
    out->push_back(std::byte(v));
  }
  return true;
}

inline std::string to_hex(cbytes b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += d[std::to_integer<unsigned>(x) >> 4];
    s += d[std::to_integer<unsigned>(x) & 15];
  }
  return s;
}

}  // namespace mipvpn::test
