/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP in IP (RFC 2003): decapsulation never touches bytes outside the
 * buffer; what it accepts is a valid inner IPv4 datagram inside the
 * original window; what it refuses is left as it was. Encapsulating the
 * input then decapsulating gives the input back.
 */
#include "codec/ipip.h"
#include "fuzz_util.h"

using namespace mipvpn;
using namespace mipvpn::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const Shape shape(fdp);
  const uint32_t headroom = fdp.ConsumeIntegralInRange<uint32_t>(0, 64);
  const uint32_t tailroom = fdp.ConsumeIntegralInRange<uint32_t>(0, 16);
  const bool nocheck = fdp.ConsumeBool();
  const bool always_df = fdp.ConsumeBool();
  const IpipEncapParams p{.src = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>()),
                          .dst = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>()),
                          .id = fdp.ConsumeIntegral<uint16_t>(),
                          .ttl = fdp.ConsumeIntegral<uint8_t>(),
                          .always_df = always_df};
  std::vector<std::byte> pkt;
  if (shape.generate) {
    FuzzBuf g(gen_ipv4(fdp, fdp.ConsumeIntegral<uint8_t>()), kIpipOverhead, 0);
    pkt = ipip_encap(g.v, p) == CodecError::kOk ? view_bytes(g.v) : g.orig;
  } else {
    pkt = rest_as_packet(fdp);
  }
  mutate(pkt, shape.nmut, shape.where, shape.what);
  if (shape.fix) {
    if (const size_t hl = fix_ipv4_csum(pkt, 0)) fix_ipv4_csum(pkt, hl);
  }
  const IpipDecapOpts opts{.outer_check = Ipv4Check::kFull,
                           .inner_check = nocheck ? Ipv4Check::kNoChecksum : Ipv4Check::kFull};

  {  // decapsulate the input
    FuzzBuf b(pkt, headroom, tailroom);
    auto r = ipip_decap(b.v, opts);
    FUZZ_CHECK(b.inside());
    if (!r) {
      FUZZ_CHECK(b.unchanged(headroom));
    } else {
      FUZZ_CHECK(b.v.data_off >= headroom + kIpipOverhead);
      FUZZ_CHECK(b.v.data_off + b.v.data_len <= headroom + pkt.size());
      auto in = ipv4_parse(b.v.bytes(), opts.inner_check);
      FUZZ_CHECK(in.ok() && in->total_len == b.v.data_len && in->ttl != 0);
      auto out = ipv4_parse(pkt, Ipv4Check::kFull);
      FUZZ_CHECK(out.ok() && out->proto == kIpProtoIpip && !out->fragment);
      FUZZ_CHECK(r->src == out->src && r->dst == out->dst);
      FUZZ_CHECK(std::memcmp(b.v.data(), pkt.data() + out->hdr_len, b.v.data_len) == 0);
    }
  }
  {  // encapsulate the input, then decapsulate it again
    FuzzBuf b(pkt, headroom, tailroom);
    const CodecError e = ipip_encap(b.v, p);
    FUZZ_CHECK(b.inside());
    if (e != CodecError::kOk) {
      FUZZ_CHECK(b.unchanged(headroom));
    } else {
      auto out = ipv4_parse(b.v.bytes(), Ipv4Check::kFull);
      FUZZ_CHECK(out.ok() && out->proto == kIpProtoIpip && out->total_len == b.v.data_len);
      FUZZ_CHECK(out->src == p.src && out->dst == p.dst && out->ttl == p.ttl && out->id == p.id);
      const uint32_t inner_len = b.v.data_len - kIpipOverhead;
      auto r = ipip_decap(b.v, opts);
      FUZZ_CHECK(r.ok() && r->src == p.src && r->dst == p.dst);
      FUZZ_CHECK(b.v.data_off == headroom && b.v.data_len == inner_len);
      FUZZ_CHECK(std::memcmp(b.v.data(), pkt.data(), inner_len) == 0);
    }
  }
  return 0;
}
