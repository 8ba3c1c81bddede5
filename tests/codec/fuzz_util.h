/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the codec fuzz targets: a PktView over an exactly sized heap
 * buffer (so AddressSanitizer sees any byte outside it), and a check. */
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "codec/ipv4.h"
#include "codec/pkt.h"
#include "codec/udp.h"

namespace mipvpn::fuzz {

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) std::abort(); \
  } while (0)

struct FuzzBuf {
  std::unique_ptr<std::byte[]> mem;
  PktView v;
  std::vector<std::byte> orig;  /* the packet as given */

  FuzzBuf(const std::vector<std::byte>& pkt, uint32_t headroom, uint32_t tailroom)
      : mem(new std::byte[headroom + pkt.size() + tailroom + 1]), orig(pkt) {
    std::memset(mem.get(), 0xee, headroom + pkt.size() + tailroom + 1);
    if (!pkt.empty()) std::memcpy(mem.get() + headroom, pkt.data(), pkt.size());
    v.buf = mem.get();
    v.buf_len = static_cast<uint32_t>(headroom + pkt.size() + tailroom);
    v.data_off = headroom;
    v.data_len = static_cast<uint32_t>(pkt.size());
  }
  /* The view is untouched and still holds the packet it was given. */
  bool unchanged(uint32_t headroom) const {
    return v.data_off == headroom && v.data_len == orig.size() &&
           (orig.empty() || std::memcmp(v.data(), orig.data(), orig.size()) == 0);
  }
  /* The view lies inside the buffer. */
  bool inside() const {
    return v.data_off <= v.buf_len && v.data_len <= v.buf_len - v.data_off;
  }
};

/* Split the input: a few bytes of parameters, the rest is the packet. */
inline std::vector<std::byte> rest_as_packet(FuzzedDataProvider& fdp) {
  auto b = fdp.ConsumeRemainingBytes<uint8_t>();
  std::vector<std::byte> out(b.size());
  if (!b.empty()) std::memcpy(out.data(), b.data(), b.size());
  return out;
}

/*
 * A valid option-less IPv4 datagram with fuzzed fields and payload (the
 * rest of the input), so that targets reach the paths past the checks.
 */
inline std::vector<std::byte> gen_ipv4(FuzzedDataProvider& fdp, uint8_t proto) {
  Ipv4Build b{.src = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>()),
              .dst = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>()),
              .id = fdp.ConsumeIntegral<uint16_t>(),
              .proto = proto,
              .ttl = fdp.ConsumeIntegral<uint8_t>(),
              .tos = fdp.ConsumeIntegral<uint8_t>(),
              .df = fdp.ConsumeBool()};
  const size_t pad = fdp.ConsumeIntegralInRange<size_t>(0, 3);
  std::vector<std::byte> p = rest_as_packet(fdp);
  if (p.size() > 2000) p.resize(2000);
  p.insert(p.begin(), kIpv4HdrLen, std::byte{0});
  b.total_len = static_cast<uint16_t>(p.size());
  ipv4_build(p, b);
  p.resize(p.size() + pad, std::byte{0});  /* Ethernet padding */
  return p;
}

/* Overwrite up to three bytes at fuzzed places (none: the valid packet). */
inline void mutate(std::vector<std::byte>& p, uint8_t n, uint64_t where, uint32_t what) {
  for (uint8_t i = 0; i < n % 4 && !p.empty(); ++i) {
    p[where % p.size()] = std::byte(what & 0xff);
    where /= p.size() + 1;
    what >>= 8;
  }
}

/*
 * Random bytes almost never carry a right checksum; so that the fuzzer
 * gets past them, a target may first repair the IPv4 header checksum at
 * offset at (when an IHL there fits) and return the header length, or 0.
 */
inline size_t fix_ipv4_csum(std::vector<std::byte>& p, size_t at) {
  if (p.size() < at + kIpv4HdrLen) return 0;
  const size_t hl = (std::to_integer<size_t>(p[at]) & 0x0f) * 4;
  if (hl < kIpv4HdrLen || p.size() < at + hl) return 0;
  p[at + 10] = p[at + 11] = std::byte{0};
  store_be16(&p[at + 10], ip_checksum(cbytes(p).subspan(at, hl)));
  return hl;
}

/* Repair the UDP checksum after an IPv4 header at 0 (when non-zero and
 * the lengths fit). */
inline void fix_udp_csum(std::vector<std::byte>& p) {
  auto ip = ipv4_parse(p, Ipv4Check::kNoChecksum);
  if (!ip) return;
  bytes l4 = ipv4_payload(bytes(p), *ip);
  if (l4.size() < kUdpHdrLen) return;
  const uint16_t len = load_be16(&l4[4]);
  if (len < kUdpHdrLen || len > l4.size() || load_be16(&l4[6]) == 0) return;
  udp_fill_checksum(l4.first(len), ip->src, ip->dst);
}

/* How a target gets its packet: raw bytes, or generated then damaged. */
struct Shape {
  bool generate, fix;
  uint8_t nmut;
  uint64_t where;
  uint32_t what;
  explicit Shape(FuzzedDataProvider& fdp)
      : generate(fdp.ConsumeBool()), fix(fdp.ConsumeBool()),
        nmut(fdp.ConsumeIntegral<uint8_t>()), where(fdp.ConsumeIntegral<uint64_t>()),
        what(fdp.ConsumeIntegral<uint32_t>()) {}
};

/* The bytes of a view. */
inline std::vector<std::byte> view_bytes(const PktView& v) {
  return {v.data(), v.data() + v.data_len};
}

}  // namespace mipvpn::fuzz
