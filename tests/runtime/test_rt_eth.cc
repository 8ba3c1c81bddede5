/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime's pure parts, no EAL: Ethernet in and out, MAC addresses,
 * the neighbour table, the software spread hash, drop names.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "codec/endian.h"
#include "runtime/counters.h"
#include "runtime/eth.h"
#include "codec/mac.h"
#include "runtime/neighbour.h"
#include "runtime/spread.h"

namespace mipvpn {
namespace {

constexpr MacAddr kOurs{{0x02, 0, 0, 0, 0, 1}};
constexpr MacAddr kOther{{0x02, 0, 0, 0, 0, 2}};

struct Buf {
  std::vector<std::byte> b = std::vector<std::byte>(256);
  PktView v;
  Buf(const MacAddr& dst, uint16_t type, uint32_t len, uint32_t off = 64) {
    v.buf = b.data();
    v.buf_len = static_cast<uint32_t>(b.size());
    v.data_off = off;
    v.data_len = len;
    std::byte* p = v.data();
    for (int i = 0; i < 6; ++i) p[i] = std::byte{dst.b[i]};
    if (len >= 14) store_be16(p + 12, type);
  }
};

TEST(RtEth, StripsIpv4ToOurMacOrBroadcast) {
  for (const MacAddr& dst : {kOurs, kMacBroadcast}) {
    Buf f(dst, kEtherTypeIpv4, 60);
    EXPECT_EQ(eth_rx(f.v, kOurs), EthRxKind::kIpv4);
    EXPECT_EQ(f.v.data_off, 64u + 14u);
    EXPECT_EQ(f.v.data_len, 46u);
  }
}

TEST(RtEth, ClassifiesTheRest) {
  Buf arp(kMacBroadcast, kEtherTypeArp, 42);
  EXPECT_EQ(eth_rx(arp.v, kOurs), EthRxKind::kArp);
  EXPECT_EQ(arp.v.data_off, 64u); /* punted whole */
  Buf other(kOther, kEtherTypeIpv4, 60);
  EXPECT_EQ(eth_rx(other.v, kOurs), EthRxKind::kNotForUs);
  /* One bit off ours or off broadcast, in every byte: not for us. */
  for (int i = 0; i < 6; ++i) {
    for (MacAddr near : {kOurs, kMacBroadcast}) {
      near.b[i] ^= 0x10;
      Buf f(near, kEtherTypeIpv4, 60);
      EXPECT_EQ(eth_rx(f.v, kOurs), EthRxKind::kNotForUs) << near.str();
      EXPECT_EQ(f.v.data_off, 64u);
    }
  }
  Buf vlan(kOurs, kEtherTypeVlan, 64);
  EXPECT_EQ(eth_rx(vlan.v, kOurs), EthRxKind::kVlan);
  Buf qinq(kOurs, kEtherTypeQinQ, 64);
  EXPECT_EQ(eth_rx(qinq.v, kOurs), EthRxKind::kVlan);
  Buf v6(kOurs, 0x86dd, 64);
  EXPECT_EQ(eth_rx(v6.v, kOurs), EthRxKind::kEtherType);
  for (uint32_t len = 0; len < 14; ++len) {
    Buf runt(kOurs, kEtherTypeIpv4, len);
    EXPECT_EQ(eth_rx(runt.v, kOurs), EthRxKind::kRunt);
    EXPECT_EQ(runt.v.data_len, len);
  }
}

TEST(RtEth, PrependsIntoHeadroomOrRefuses) {
  Buf f(kOurs, 0, 20, 14);
  ASSERT_TRUE(eth_tx_prepend(f.v, kOther, kOurs, kEtherTypeIpv4));
  EXPECT_EQ(f.v.data_off, 0u);
  EXPECT_EQ(f.v.data_len, 34u);
  const std::byte* p = f.v.data();
  EXPECT_EQ(std::memcmp(p, kOther.b.data(), 6), 0);
  EXPECT_EQ(std::memcmp(p + 6, kOurs.b.data(), 6), 0);
  EXPECT_EQ(load_be16(p + 12), kEtherTypeIpv4);
  Buf tight(kOurs, 0, 20, 13);
  EXPECT_FALSE(eth_tx_prepend(tight.v, kOther, kOurs, kEtherTypeIpv4));
  EXPECT_EQ(tight.v.data_off, 13u);
  EXPECT_EQ(tight.v.data_len, 20u);
}

TEST(RtMac, ParsesAndPrints) {
  const auto m = MacAddr::parse("02:aB:00:ff:10:9c");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->str(), "02:ab:00:ff:10:9c");
  for (const char* bad : {"", "02:ab:00:ff:10", "02:ab:00:ff:10:9c:00", "02-ab-00-ff-10-9c",
                          "0g:ab:00:ff:10:9c", "02:ab:00:ff:10:9"})
    EXPECT_FALSE(MacAddr::parse(bad)) << bad;
  EXPECT_TRUE(kMacBroadcast.is_broadcast());
  EXPECT_FALSE(kOurs.is_multicast());
}

TEST(RtNeighbour, FindsWhatWasAddedAndNothingElse) {
  NeighbourTable t;
  EXPECT_EQ(t.lookup(Ipv4Addr(10, 0, 0, 1)), nullptr);
  int added = 0;
  for (uint32_t i = 0; i < 200; ++i)
    if (t.add(Ipv4Addr(0x0a000000u + i * 256), MacAddr{{2, 0, 0, 0, 0, static_cast<uint8_t>(i)}}))
      ++added;
  EXPECT_GE(added, 190);
  for (uint32_t i = 0; i < 200; ++i) {
    const MacAddr* m = t.lookup(Ipv4Addr(0x0a000000u + i * 256));
    if (m) {
      EXPECT_EQ(m->b[5], i);
    }
  }
  EXPECT_EQ(t.lookup(Ipv4Addr(0x0a000001u)), nullptr);
  /* Replacing keeps one entry. */
  ASSERT_TRUE(t.add(Ipv4Addr(1, 2, 3, 4), kOurs));
  ASSERT_TRUE(t.add(Ipv4Addr(1, 2, 3, 4), kOther));
  EXPECT_EQ(*t.lookup(Ipv4Addr(1, 2, 3, 4)), kOther);
}

/* IPv4 header + 8 bytes of L4 + 8 of payload at data(). */
PktView l3(std::vector<std::byte>& b, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
           uint16_t dport, uint32_t word) {
  b.assign(64, std::byte{0});
  b[0] = std::byte{0x45};
  b[9] = std::byte{proto};
  store_be32(b.data() + 12, src);
  store_be32(b.data() + 16, dst);
  if (proto == 50) {
    store_be32(b.data() + 20, word);
  } else {
    store_be16(b.data() + 20, sport);
    store_be16(b.data() + 22, dport);
    store_be32(b.data() + 28, word);
  }
  PktView v;
  v.buf = b.data();
  v.buf_len = 64;
  v.data_len = 40;
  return v;
}

TEST(RtSpread, OneSpiOneHashWhateverTheAddressesAndPorts) {
  std::vector<std::byte> b;
  for (uint32_t spi : {0x100u, 0xdeadbeefu, 0x12345u}) {
    const uint32_t h = spread_hash(l3(b, 1, 2, 50, 0, 0, spi));
    EXPECT_EQ(spread_hash(l3(b, 7, 9, 50, 0, 0, spi)), h);
    EXPECT_EQ(spread_hash(l3(b, 7, 9, 17, 4500, 4500, spi)), h);
    EXPECT_EQ(spread_hash(l3(b, 3, 4, 17, 61000, 4500, spi)), h);
  }
  /* IKE (zero marker) and other UDP: by addresses. */
  EXPECT_EQ(spread_hash(l3(b, 1, 2, 17, 4500, 4500, 0)), spread_hash(l3(b, 1, 2, 17, 500, 500, 7)));
  EXPECT_NE(spread_hash(l3(b, 1, 2, 6, 1, 2, 0)), spread_hash(l3(b, 1, 3, 6, 1, 2, 0)));
  /* Short or odd input never reads out of bounds and gives some worker. */
  PktView tiny = l3(b, 1, 2, 50, 0, 0, 0x1000);
  tiny.data_len = 3;
  EXPECT_EQ(spread_hash(tiny), 0u);
  tiny.data_len = 22; /* ESP header cut */
  EXPECT_LT(spread_worker(tiny, 3), 3u);
}

TEST(RtSpread, SpreadsManySpisOverWorkers) {
  std::vector<std::byte> b;
  std::array<int, 4> per{};
  for (uint32_t spi = 256; spi < 256 + 4000; ++spi) ++per[spread_worker(l3(b, 1, 2, 50, 0, 0, spi), 4)];
  for (int c : per) EXPECT_GT(c, 800);
}

TEST(RtCounters, EveryDropHasAName) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kRtDropCount; ++i) {
    const auto n = to_string(static_cast<RtDrop>(i));
    EXPECT_NE(n, "?");
    names.insert(n);
  }
  EXPECT_EQ(names.size(), kRtDropCount);
  EXPECT_EQ(to_string(RtDrop::kNoNeighbour), "no_neighbour");
  static_assert(alignof(WorkerCounters) == 64);
}

}  // namespace
}  // namespace mipvpn
