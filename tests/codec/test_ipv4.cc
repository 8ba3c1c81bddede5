/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 codec: RFC 791 header checks, RFC 1071 checksum, RFC 1624 update. */
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "codec/ipv4.h"

namespace mipvpn {
namespace {

std::vector<std::byte> hex(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

/* A captured UDP/IPv4 header, checksum 0xb861. */
std::vector<std::byte> sample() {
  return hex({0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
              0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7});
}

TEST(Ipv4Checksum, Rfc1071ExampleSum) {
  /* RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to 0xddf2. */
  auto d = hex({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
  EXPECT_EQ(csum_partial(d), 0xddf2u);
  EXPECT_EQ(ip_checksum(d), static_cast<uint16_t>(~0xddf2));
}

TEST(Ipv4Checksum, OddLengthPadsWithZero) {
  auto d = hex({0x01, 0x02, 0x03});
  EXPECT_EQ(csum_partial(d), 0x0102u + 0x0300u);
}

TEST(Ipv4Checksum, Rfc1624Equation3) {
  /* RFC 1624 section 4: HC=0xDD2F, m 0x5555 -> 0x3285 gives 0x0000. */
  EXPECT_EQ(csum_update16(0xDD2F, 0x5555, 0x3285), 0x0000);
}

TEST(Ipv4Parse, ValidHeader) {
  auto p = sample();
  p.resize(0x73);
  auto r = ipv4_parse(p);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->hdr_len, 20);
  EXPECT_EQ(r->total_len, 0x73);
  EXPECT_EQ(r->proto, kIpProtoUdp);
  EXPECT_EQ(r->ttl, 64);
  EXPECT_TRUE(r->df);
  EXPECT_FALSE(r->fragment);
  EXPECT_EQ(r->src, Ipv4Addr(192, 168, 0, 1));
  EXPECT_EQ(r->dst, Ipv4Addr(192, 168, 0, 199));
}

struct BadCase {
  const char* name;
  size_t offset;
  int value;
  size_t size;
  CodecError want;
};

TEST(Ipv4Parse, RejectsMalformed) {
  const BadCase cases[] = {
      {"short", 0, 0x45, 19, CodecError::kTruncated},
      {"version6", 0, 0x65, 0x73, CodecError::kBadVersion},
      {"ihl4", 0, 0x44, 0x73, CodecError::kBadIhl},
      {"ihl15_short", 0, 0x4f, 40, CodecError::kTruncated},
      {"total_lt_ihl", 3, 0x10, 0x73, CodecError::kBadLength},
      {"total_gt_bytes", 3, 0x74, 0x73, CodecError::kTruncated},
      {"checksum", 11, 0x62, 0x73, CodecError::kBadChecksum},
  };
  for (const auto& c : cases) {
    auto p = sample();
    p.resize(std::max<size_t>(c.size, 20));
    p[c.offset] = std::byte(c.value);
    auto r = ipv4_parse(cbytes(p).first(c.size));
    EXPECT_EQ(r.error(), c.want) << c.name;
  }
}

TEST(Ipv4Parse, ChecksumSkippedWhenOffloaded) {
  auto p = sample();
  p.resize(0x73);
  p[11] = std::byte{0};
  EXPECT_EQ(ipv4_parse(p).error(), CodecError::kBadChecksum);
  EXPECT_TRUE(ipv4_parse(p, Ipv4Check::kNoChecksum).ok());
}

TEST(Ipv4Build, MatchesCapturedHeader) {
  std::array<std::byte, 20> out{};
  ipv4_build(out, {.src = Ipv4Addr(192, 168, 0, 1),
                   .dst = Ipv4Addr(192, 168, 0, 199),
                   .total_len = 0x73,
                   .id = 0,
                   .proto = kIpProtoUdp,
                   .ttl = 64,
                   .tos = 0,
                   .df = true});
  auto want = sample();
  EXPECT_TRUE(std::equal(out.begin(), out.end(), want.begin()));
}

TEST(Ipv4Update, TtlDecrementKeepsChecksumValid) {
  auto p = sample();
  auto* h = header_at<Ipv4Hdr>(p.data());
  for (int ttl = 64; ttl > 1; --ttl) {
    ASSERT_EQ(ipv4_ttl_decrement(h), CodecError::kOk);
    ASSERT_EQ(ip_checksum(cbytes(p).first(20)), 0) << ttl;
  }
  EXPECT_EQ(h->ttl, 1);
  EXPECT_EQ(ipv4_ttl_decrement(h), CodecError::kTtlExpired);
  EXPECT_EQ(h->ttl, 1);
}

TEST(Ipv4Update, SetTosKeepsChecksumValid) {
  auto p = sample();
  auto* h = header_at<Ipv4Hdr>(p.data());
  for (int tos : {0x10, 0xb8, 0xff, 0x00}) {
    ipv4_set_tos(h, static_cast<uint8_t>(tos));
    EXPECT_EQ(ip_checksum(cbytes(p).first(20)), 0) << tos;
  }
}

TEST(Ipv4Addr, ParseAndPrint) {
  EXPECT_EQ(Ipv4Addr::parse("10.0.0.1"), Ipv4Addr(10, 0, 0, 1));
  EXPECT_EQ(Ipv4Addr(192, 0, 2, 255).str(), "192.0.2.255");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.1.1.1", "a.b.c.d", "1..2.3", "1.2.3.4 "})
    EXPECT_FALSE(Ipv4Addr::parse(bad).has_value()) << bad;
}

}  // namespace
}  // namespace mipvpn
