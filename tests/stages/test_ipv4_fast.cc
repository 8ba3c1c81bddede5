/* SPDX-License-Identifier: BSD-3-Clause */
/* stages/ipv4_fast.h gives the codec's answer (codec/ipv4.h) for every input. */
#include "stages/ipv4_fast.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

namespace mipvpn {
namespace {

bool same(const Ipv4Info& a, const Ipv4Info& b) {
  return a.hdr_len == b.hdr_len && a.total_len == b.total_len && a.id == b.id && a.tos == b.tos &&
         a.ttl == b.ttl && a.proto == b.proto && a.df == b.df && a.fragment == b.fragment &&
         a.src == b.src && a.dst == b.dst;
}

void expect_same(cbytes pkt, Ipv4Check chk) {
  Ipv4Info fast;
  const CodecError e = ipv4_parse_fast(pkt, chk, &fast);
  auto ref = ipv4_parse(pkt, chk);
  if (!ref) {
    EXPECT_EQ(e, ref.error());
  } else {
    ASSERT_EQ(e, CodecError::kOk);
    EXPECT_TRUE(same(fast, *ref));
  }
}

TEST(Ipv4Fast, BuildIsTheCodecs) {
  std::mt19937 rng(1);
  for (int n = 0; n < 20000; ++n) {
    const Ipv4Build b{.src = Ipv4Addr(rng()), .dst = Ipv4Addr(rng()),
                      .total_len = static_cast<uint16_t>(rng()), .id = static_cast<uint16_t>(rng()),
                      .proto = static_cast<uint8_t>(rng()), .ttl = static_cast<uint8_t>(rng()),
                      .tos = static_cast<uint8_t>(rng()), .df = (rng() & 1) != 0};
    std::array<std::byte, 20> a{}, f{};
    ipv4_build(a, b);
    ipv4_build_fast(f.data(), b);
    ASSERT_EQ(a, f);
  }
}

TEST(Ipv4Fast, ParseIsTheCodecs) {
  std::mt19937 rng(2);
  std::vector<std::byte> buf(80);
  for (int n = 0; n < 200000; ++n) {
    /* A valid header, then a few random changes (or none), cut anywhere. */
    const uint16_t tl = static_cast<uint16_t>(20 + rng() % 60);
    ipv4_build(buf, {.src = Ipv4Addr(rng()), .dst = Ipv4Addr(rng()), .total_len = tl,
                     .id = static_cast<uint16_t>(rng()), .proto = static_cast<uint8_t>(rng()),
                     .ttl = static_cast<uint8_t>(rng()), .tos = static_cast<uint8_t>(rng()),
                     .df = (rng() & 1) != 0});
    if (rng() % 4 == 0) buf[6] = std::byte(rng() % 256);  /* flags, offset */
    for (uint32_t k = rng() % 3; k > 0; --k) buf[rng() % 24] = std::byte(rng() % 256);
    if (rng() % 8 == 0) buf[0] = std::byte(0x40 | (rng() % 16));  /* IHL */
    const size_t len = rng() % 3 == 0 ? rng() % 81 : tl;
    for (Ipv4Check chk : {Ipv4Check::kFull, Ipv4Check::kNoChecksum}) {
      expect_same(cbytes(buf.data(), len), chk);
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace mipvpn
