/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the Mobile IP registration tests. */
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "mip/auth.h"
#include "mip/msg.h"

namespace mipvpn::test {

using Bytes = std::vector<std::byte>;

inline Bytes hex(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

inline Bytes unhex(std::string_view s) {
  Bytes out;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(std::byte(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  return out;
}

inline Bytes str(std::string_view s) {
  return Bytes(reinterpret_cast<const std::byte*>(s.data()),
               reinterpret_cast<const std::byte*>(s.data()) + s.size());
}

inline Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline Bytes to_vec(cbytes b) { return Bytes(b.begin(), b.end()); }

/* A security association with SPI 0x1000 and key 01 02 .. 10. */
inline MipSa test_sa() {
  MipSa sa;
  sa.spi = 0x1000;
  Bytes k;
  for (int i = 1; i <= 16; ++i) k.push_back(std::byte(i));
  sa.set_key(k);
  return sa;
}

/* The request the byte vectors below describe. */
inline MipRequest test_request() {
  MipRequest r;
  r.s = true;
  r.t = true;
  r.lifetime = 1800;
  r.home_addr = Ipv4Addr(10, 1, 0, 5);
  r.home_agent = Ipv4Addr(10, 1, 0, 1);
  r.care_of = Ipv4Addr(192, 0, 2, 7);
  r.id = 0xE7A1B2C300001234ULL;
  return r;
}

}  // namespace mipvpn::test
