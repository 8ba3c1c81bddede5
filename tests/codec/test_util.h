/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the codec unit tests: byte vectors and PktView buffers. */
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "codec/endian.h"
#include "codec/ipv4.h"
#include "codec/pkt.h"

namespace mipvpn::test {

inline std::vector<std::byte> hex(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

inline std::vector<std::byte> cat(std::vector<std::byte> a, const std::vector<std::byte>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/* A packet in a buffer with the given head- and tailroom, as an mbuf holds it. */
struct Buf {
  std::vector<std::byte> mem;
  PktView v;
  Buf(const std::vector<std::byte>& pkt, uint32_t headroom, uint32_t tailroom = 0)
      : mem(headroom + pkt.size() + tailroom, std::byte{0xee}) {
    std::copy(pkt.begin(), pkt.end(), mem.begin() + headroom);
    v.buf = mem.data();
    v.buf_len = static_cast<uint32_t>(mem.size());
    v.data_off = headroom;
    v.data_len = static_cast<uint32_t>(pkt.size());
  }
  std::vector<std::byte> data() const { return {v.data(), v.data() + v.data_len}; }
};

/* An option-less IPv4 datagram with a payload of n bytes (pattern). */
inline std::vector<std::byte> ipv4_pkt(Ipv4Build b, size_t n) {
  std::vector<std::byte> p(kIpv4HdrLen + n);
  for (size_t i = 0; i < n; ++i) p[kIpv4HdrLen + i] = std::byte(i * 7 + 1);
  b.total_len = static_cast<uint16_t>(p.size());
  ipv4_build(p, b);
  return p;
}

/* scapy 2.5.0: IP(src=10.1.0.5, dst=10.2.0.9, id=0x1234, ttl=63, tos=0xb8,
 * flags=DF) / UDP(sport=7, dport=7) / "ping": the inner datagram of the
 * tunnel codec tests. */
inline std::vector<std::byte> scapy_inner() {
  return hex({0x45, 0xb8, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x11, 0x14,
              0xd1, 0x0a, 0x01, 0x00, 0x05, 0x0a, 0x02, 0x00, 0x09, 0x00, 0x07,
              0x00, 0x07, 0x00, 0x0c, 0x0c, 0xe7, 0x70, 0x69, 0x6e, 0x67});
}

}  // namespace mipvpn::test
