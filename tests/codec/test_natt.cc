/* SPDX-License-Identifier: BSD-3-Clause */
/* RFC 3948 UDP-encapsulated ESP: demux (2.1-2.3), encap/decap (3.1). */
#include <gtest/gtest.h>

#include <vector>

#include "codec/natt.h"
#include "test_util.h"

namespace mipvpn {
namespace {

using test::Buf;
using test::cat;
using test::hex;

/* scapy 2.5.0: IP(src=198.51.100.1, dst=203.0.113.7, id=3, ttl=64) /
 * UDP(sport=4500, dport=4500, chksum=0) / ESP(spi=0x1001, seq=1) /
 * 16 bytes 0x01. */
std::vector<std::byte> udp_esp() {
  return cat(hex({0x45, 0x00, 0x00, 0x34, 0x00, 0x03, 0x00, 0x00, 0x40, 0x11, 0x14, 0x7a,
                  0xc6, 0x33, 0x64, 0x01, 0xcb, 0x00, 0x71, 0x07,  // IPv4
                  0x11, 0x94, 0x11, 0x94, 0x00, 0x20, 0x00, 0x00,  // UDP 4500
                  0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x01}), // SPI, seq
             std::vector<std::byte>(16, std::byte{1}));
}
std::vector<std::byte> esp_part() {
  auto p = udp_esp();
  return {p.begin() + 28, p.end()};
}
/* The same datagram as plain IP / ESP: header built from scratch. */
std::vector<std::byte> ip_esp() {
  std::vector<std::byte> h(20);
  ipv4_build(h, {.src = Ipv4Addr(198, 51, 100, 1), .dst = Ipv4Addr(203, 0, 113, 7),
                 .total_len = 44, .id = 3, .proto = kIpProtoEsp, .ttl = 64});
  return cat(h, esp_part());
}
std::vector<std::byte> with_payload(const std::vector<std::byte>& payload) {
  std::vector<std::byte> p(28);
  const uint16_t total = static_cast<uint16_t>(28 + payload.size());
  ipv4_build(p, {.src = Ipv4Addr(198, 51, 100, 1), .dst = Ipv4Addr(203, 0, 113, 7),
                 .total_len = total, .proto = kIpProtoUdp});
  udp_build(bytes(p).subspan(20), 4500, kPortNatt, static_cast<uint16_t>(8 + payload.size()));
  return cat(p, payload);
}
std::vector<std::byte> reseal(std::vector<std::byte> p) {
  p[10] = p[11] = std::byte{0};
  store_be16(&p[10], ip_checksum(cbytes(p).first(20)));
  return p;
}

TEST(NattClassify, Table) {
  struct Case {
    const char* name;
    std::vector<std::byte> payload;
    CodecError err;
    NattKind kind;
    uint32_t spi;
  };
  const Case cases[] = {
      {"keepalive", hex({0xff}), CodecError::kOk, NattKind::kKeepalive, 0},
      {"one_byte_not_ff", hex({0xfe}), CodecError::kTruncated, {}, 0},
      {"two_ff", hex({0xff, 0xff}), CodecError::kTruncated, {}, 0},
      {"empty", {}, CodecError::kTruncated, {}, 0},
      {"marker_only", hex({0, 0, 0, 0}), CodecError::kOk, NattKind::kIke, 0},
      {"ike", cat(hex({0, 0, 0, 0}), std::vector<std::byte>(28, std::byte{7})), CodecError::kOk,
       NattKind::kIke, 0},
      {"three_zeros", hex({0, 0, 0}), CodecError::kTruncated, {}, 0},
      {"esp_7_bytes", hex({0, 0, 0x10, 1, 0, 0, 0}), CodecError::kTruncated, {}, 0},
      {"esp_8_bytes", hex({0, 0, 0x10, 1, 0, 0, 0, 1}), CodecError::kOk, NattKind::kEsp, 0x1001},
      {"spi_1", hex({0, 0, 0, 1, 0, 0, 0, 1}), CodecError::kBadSpi, {}, 0},
      {"spi_255", hex({0, 0, 0, 255, 0, 0, 0, 1}), CodecError::kBadSpi, {}, 0},
      {"spi_256", hex({0, 0, 1, 0, 0, 0, 0, 1}), CodecError::kOk, NattKind::kEsp, 256},
      {"spi_max", hex({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}), CodecError::kOk, NattKind::kEsp,
       0xffffffff},
      {"scapy_esp", esp_part(), CodecError::kOk, NattKind::kEsp, 0x1001},
  };
  for (const auto& c : cases) {
    auto r = natt_classify(c.payload);
    EXPECT_EQ(r.error(), c.err) << c.name;
    if (r) {
      EXPECT_EQ(r->kind, c.kind) << c.name;
      EXPECT_EQ(r->spi, c.spi) << c.name;
    }
  }
}

TEST(NattDemux, ScapyEsp) {
  const auto p = udp_esp();
  auto d = natt_demux(p);
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(d->kind, NattKind::kEsp);
  EXPECT_EQ(d->spi, 0x1001u);
  EXPECT_EQ(d->src, Ipv4Addr(198, 51, 100, 1));
  EXPECT_EQ(d->dst, Ipv4Addr(203, 0, 113, 7));
  EXPECT_EQ(d->sport, 4500);
  EXPECT_EQ(d->dport, 4500);
  EXPECT_EQ(d->payload_off, 28);
  EXPECT_EQ(d->payload_len, 24);
}

TEST(NattDemux, Table) {
  const auto good = udp_esp();
  auto badsum = good;
  store_be16(&badsum[26], 0x1234);
  auto nat_port = good;  // the NAT rewrote the source port
  store_be16(&nat_port[20], 61000);
  auto ike_port = good;
  store_be16(&ike_port[22], kPortIke);
  auto udp_len_long = good;
  store_be16(&udp_len_long[24], 33);
  auto frag = good;
  frag[6] = std::byte{0x20};
  auto as_esp = good;
  as_esp[9] = std::byte{kIpProtoEsp};
  const NattOpts verify{.udp_check = UdpCheck::kFull};
  const NattOpts port500{.port = kPortIke};
  struct Case {
    const char* name;
    std::vector<std::byte> pkt;
    NattOpts opts;
    CodecError err;
    NattKind kind;
  };
  const Case cases[] = {
      {"esp", good, {}, CodecError::kOk, NattKind::kEsp},
      {"keepalive", with_payload(hex({0xff})), {}, CodecError::kOk, NattKind::kKeepalive},
      {"ike", with_payload(cat(hex({0, 0, 0, 0}), std::vector<std::byte>(28))), {}, CodecError::kOk,
       NattKind::kIke},
      {"nat_source_port", nat_port, {}, CodecError::kOk, NattKind::kEsp},
      {"csum_ignored", badsum, {}, CodecError::kOk, NattKind::kEsp},
      {"csum_verified", badsum, verify, CodecError::kBadChecksum, {}},
      {"zero_csum_verified", good, verify, CodecError::kOk, NattKind::kEsp},
      {"wrong_port", ike_port, {}, CodecError::kBadPort, {}},
      {"other_port_configured", ike_port, port500, CodecError::kOk, NattKind::kEsp},
      {"ip_truncated", {good.begin(), good.end() - 1}, {}, CodecError::kTruncated, {}},
      {"ip_checksum", [&] { auto p = good; p[11] ^= std::byte{1}; return p; }(), {},
       CodecError::kBadChecksum, {}},
      {"not_udp", reseal(as_esp), {}, CodecError::kBadProtocol, {}},
      {"fragment", reseal(frag), {}, CodecError::kFragment, {}},
      {"udp_len_long", udp_len_long, {}, CodecError::kBadLength, {}},
      {"esp_short", with_payload(hex({0, 0, 0x10, 1, 0, 0, 0})), {}, CodecError::kTruncated, {}},
      {"empty_payload", with_payload({}), {}, CodecError::kTruncated, {}},
      {"spi_reserved", with_payload(hex({0, 0, 0, 9, 0, 0, 0, 1})), {}, CodecError::kBadSpi, {}},
  };
  for (const auto& c : cases) {
    auto d = natt_demux(c.pkt, c.opts);
    EXPECT_EQ(d.error(), c.err) << c.name;
    if (d) {
      EXPECT_EQ(d->kind, c.kind) << c.name;
    }
  }
}

TEST(NattDecap, ScapyEspBecomesIpEsp) {
  Buf b(udp_esp(), 0, 4);
  ASSERT_EQ(natt_decap(b.v), CodecError::kOk);
  EXPECT_EQ(b.v.data_off, 8u);
  /* Incremental RFC 1624 update gives the checksum a fresh build gives. */
  EXPECT_EQ(b.data(), ip_esp());
}

TEST(NattDecap, KeepsIpOptions) {
  /* IHL 6 with a 4-byte option: the whole header moves. */
  auto p = udp_esp();
  p.insert(p.begin() + 20, {std::byte{1}, std::byte{1}, std::byte{1}, std::byte{0}});
  p[0] = std::byte{0x46};
  store_be16(&p[2], static_cast<uint16_t>(p.size()));
  p[10] = p[11] = std::byte{0};
  store_be16(&p[10], ip_checksum(cbytes(p).first(24)));
  Buf b(p, 0);
  ASSERT_EQ(natt_decap(b.v), CodecError::kOk);
  auto ip = ipv4_parse(b.v.bytes());
  ASSERT_TRUE(ip.ok()) << to_string(ip.error());
  EXPECT_EQ(ip->hdr_len, 24);
  EXPECT_EQ(ip->proto, kIpProtoEsp);
  EXPECT_EQ(ip->total_len, 24 + 24);
  EXPECT_EQ(std::vector<std::byte>(b.v.data() + 20, b.v.data() + 24),
            hex({1, 1, 1, 0}));
  EXPECT_EQ(std::vector<std::byte>(b.v.data() + 24, b.v.data() + 48), esp_part());
}

TEST(NattDecap, TrimsToUdpLength) {
  /* IP payload 2 bytes longer than the UDP length says: cut. */
  auto p = udp_esp();
  p.push_back(std::byte{0});
  p.push_back(std::byte{0});
  store_be16(&p[2], static_cast<uint16_t>(p.size()));
  Buf b(reseal(p), 0);
  ASSERT_EQ(natt_decap(b.v), CodecError::kOk);
  EXPECT_EQ(b.data(), ip_esp());
}

TEST(NattDecap, NotEsp) {
  struct Case {
    std::vector<std::byte> pkt;
    CodecError want;
  };
  const Case cases[] = {
      {with_payload(hex({0xff})), CodecError::kNatKeepalive},
      {with_payload(cat(hex({0, 0, 0, 0}), std::vector<std::byte>(40))), CodecError::kIkeMarker},
      {with_payload(hex({1, 2, 3})), CodecError::kTruncated},
      {ip_esp(), CodecError::kBadProtocol},
  };
  for (const auto& c : cases) {
    Buf b(c.pkt, 0);
    EXPECT_EQ(natt_decap(b.v), c.want);
    EXPECT_EQ(b.v.data_off, 0u);
    EXPECT_EQ(b.data(), c.pkt);
  }
}

TEST(NattEncap, MatchesScapyBytes) {
  Buf b(ip_esp(), 8, 0);
  ASSERT_EQ(natt_encap(b.v, 4500, 4500), CodecError::kOk);
  EXPECT_EQ(b.v.data_off, 0u);
  EXPECT_EQ(b.data(), udp_esp());
}

TEST(NattEncap, Refusals) {
  auto spi0 = ip_esp();
  spi0[23] = std::byte{0};
  spi0[22] = std::byte{0};
  auto spi255 = spi0;
  spi255[23] = std::byte{255};
  auto frag = ip_esp();
  frag[6] = std::byte{0x20};
  auto short_esp = ip_esp();
  short_esp.resize(27);
  store_be16(&short_esp[2], 27);
  auto big = [](size_t total) {
    std::vector<std::byte> p(total, std::byte{0x11});
    ipv4_build(p, {.src = Ipv4Addr(1, 1, 1, 1), .dst = Ipv4Addr(2, 2, 2, 2),
                   .total_len = static_cast<uint16_t>(total), .proto = kIpProtoEsp});
    return p;
  };
  struct Case {
    const char* name;
    std::vector<std::byte> pkt;
    uint32_t headroom;
    CodecError want;
  };
  const Case cases[] = {
      {"ok", ip_esp(), 8, CodecError::kOk},
      {"headroom_7", ip_esp(), 7, CodecError::kNoRoom},
      {"not_esp", udp_esp(), 8, CodecError::kBadProtocol},
      {"bad_ip", hex({0x45, 0}), 8, CodecError::kTruncated},
      {"fragment", reseal(frag), 8, CodecError::kFragment},
      {"esp_7_bytes", reseal(short_esp), 8, CodecError::kTruncated},
      {"spi_0", spi0, 8, CodecError::kBadSpi},
      {"spi_255", spi255, 8, CodecError::kBadSpi},
      {"max", big(65527), 8, CodecError::kOk},
      {"too_big", big(65528), 8, CodecError::kTooBig},
  };
  for (const auto& c : cases) {
    Buf b(c.pkt, c.headroom);
    EXPECT_EQ(natt_encap(b.v, 61000, kPortNatt), c.want) << c.name;
    if (c.want != CodecError::kOk) {
      EXPECT_EQ(b.v.data_off, c.headroom) << c.name;
      EXPECT_EQ(b.data(), c.pkt) << c.name;
    }
  }
}

TEST(Natt, RoundTrip) {
  for (size_t n : {8, 9, 100, 1400, 65527 - 20}) {
    std::vector<std::byte> p(20 + n);
    for (size_t i = 0; i < n; ++i) p[20 + i] = std::byte(i * 31 + 0x80);
    ipv4_build(p, {.src = Ipv4Addr(10, 0, 0, 1), .dst = Ipv4Addr(10, 0, 0, 2),
                   .total_len = static_cast<uint16_t>(p.size()), .id = 77,
                   .proto = kIpProtoEsp, .ttl = 3, .tos = 0x48, .df = true});
    Buf b(p, 32);
    ASSERT_EQ(natt_encap(b.v, 1024, kPortNatt), CodecError::kOk) << n;
    auto d = natt_demux(b.v.bytes(), {.udp_check = UdpCheck::kFull});
    ASSERT_TRUE(d.ok()) << to_string(d.error());
    EXPECT_EQ(d->kind, NattKind::kEsp);
    EXPECT_EQ(d->spi, load_be32(&p[20]));
    EXPECT_EQ(d->sport, 1024);
    EXPECT_EQ(d->payload_len, n);
    ASSERT_EQ(natt_decap(b.v), CodecError::kOk);
    EXPECT_EQ(b.v.data_off, 32u);
    EXPECT_EQ(b.data(), p);
  }
}

}  // namespace
}  // namespace mipvpn
