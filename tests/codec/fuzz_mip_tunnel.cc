/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 3519 UDP tunnel: decapsulation stays inside the buffer, accepts only
 * type 4 / next header 4 with port 434 on one side and a valid inner
 * datagram, leaves what it refuses untouched; the UDP/434 classifier
 * agrees with the first byte; encap then decap is the identity.
 */
#include "codec/mip_tunnel.h"
#include "fuzz_util.h"

using namespace mipvpn;
using namespace mipvpn::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const Shape shape(fdp);
  const uint32_t headroom = fdp.ConsumeIntegralInRange<uint32_t>(0, 64);
  const uint32_t tailroom = fdp.ConsumeIntegralInRange<uint32_t>(0, 16);
  const bool udp_nocheck = fdp.ConsumeBool();
  MipTunnelEncapParams p{.src = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>()),
                         .dst = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>()),
                         .sport = fdp.ConsumeBool() ? kPortMip : fdp.ConsumeIntegral<uint16_t>(),
                         .dport = fdp.ConsumeBool() ? kPortMip : fdp.ConsumeIntegral<uint16_t>(),
                         .id = fdp.ConsumeIntegral<uint16_t>(),
                         .ttl = fdp.ConsumeIntegral<uint8_t>(),
                         .always_df = fdp.ConsumeBool(),
                         .udp_csum = fdp.ConsumeBool()};
  std::vector<std::byte> pkt;
  if (shape.generate) {
    FuzzBuf g(gen_ipv4(fdp, fdp.ConsumeIntegral<uint8_t>()), kMipUdpOverhead, 0);
    pkt = mip_tunnel_encap(g.v, p) == CodecError::kOk ? view_bytes(g.v) : g.orig;
  } else {
    pkt = rest_as_packet(fdp);
  }
  mutate(pkt, shape.nmut, shape.where, shape.what);
  if (shape.fix) {  /* outer header, inner header after UDP + tunnel header, UDP */
    if (const size_t hl = fix_ipv4_csum(pkt, 0)) fix_ipv4_csum(pkt, hl + kUdpHdrLen + kMipTunnelHdrLen);
    fix_udp_csum(pkt);
  }
  const MipTunnelDecapOpts opts{
      .udp_check = udp_nocheck ? UdpCheck::kNoChecksum : UdpCheck::kFull};

  /* The classifier reads at most one byte and agrees with it. */
  const auto kind = mip_udp_classify(pkt);
  if (pkt.empty()) {
    FUZZ_CHECK(kind == MipUdpKind::kOther);
  } else {
    const auto t = std::to_integer<uint8_t>(pkt[0]);
    FUZZ_CHECK((kind == MipUdpKind::kTunnelData) == (t == kMipTypeTunnelData));
    FUZZ_CHECK((kind == MipUdpKind::kRegRequest) == (t == kMipTypeRegRequest));
    FUZZ_CHECK((kind == MipUdpKind::kRegReply) == (t == kMipTypeRegReply));
  }

  {  // decapsulate the input
    FuzzBuf b(pkt, headroom, tailroom);
    auto r = mip_tunnel_decap(b.v, opts);
    FUZZ_CHECK(b.inside());
    if (!r) {
      FUZZ_CHECK(b.unchanged(headroom));
    } else {
      FUZZ_CHECK(r->sport == kPortMip || r->dport == kPortMip);
      FUZZ_CHECK(b.v.data_off >= headroom + kMipUdpOverhead);
      FUZZ_CHECK(b.v.data_off + b.v.data_len <= headroom + pkt.size());
      auto in = ipv4_parse(b.v.bytes());
      FUZZ_CHECK(in.ok() && in->total_len == b.v.data_len && in->ttl != 0);
      /* The tunnel header sits right before the inner datagram. */
      FUZZ_CHECK(std::to_integer<uint8_t>(b.v.data()[-4]) == kMipTypeTunnelData);
      FUZZ_CHECK(std::to_integer<uint8_t>(b.v.data()[-3]) == kMipNextIpv4);
    }
  }
  {  // encapsulate, then decapsulate
    FuzzBuf b(pkt, headroom, tailroom);
    const CodecError e = mip_tunnel_encap(b.v, p);
    FUZZ_CHECK(b.inside());
    if (e != CodecError::kOk) {
      FUZZ_CHECK(b.unchanged(headroom));
    } else {
      FUZZ_CHECK(p.sport == kPortMip || p.dport == kPortMip);
      FUZZ_CHECK(mip_udp_classify(b.v.bytes().subspan(28)) == MipUdpKind::kTunnelData);
      const uint32_t inner_len = b.v.data_len - kMipUdpOverhead;
      auto r = mip_tunnel_decap(b.v);
      FUZZ_CHECK(r.ok() && r->src == p.src && r->dst == p.dst && r->sport == p.sport &&
                 r->dport == p.dport);
      FUZZ_CHECK(b.v.data_off == headroom && b.v.data_len == inner_len);
      FUZZ_CHECK(std::memcmp(b.v.data(), pkt.data(), inner_len) == 0);
    }
  }
  return 0;
}
