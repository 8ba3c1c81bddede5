/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 3948 UDP/4500: demux stays inside the packet and agrees with the
 * payload classifier; strip turns an accepted packet into IP / ESP with a
 * valid header checksum and the same ESP bytes, and leaves a refused one
 * untouched; encap then strip is the identity.
 */
#include "codec/natt.h"
#include "fuzz_util.h"

using namespace mipvpn;
using namespace mipvpn::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const Shape shape(fdp);
  const uint32_t headroom = fdp.ConsumeIntegralInRange<uint32_t>(0, 16);
  const uint32_t tailroom = fdp.ConsumeIntegralInRange<uint32_t>(0, 16);
  const bool verify_udp = fdp.ConsumeBool();
  const uint16_t sport = fdp.ConsumeIntegral<uint16_t>();
  std::vector<std::byte> pkt;
  if (shape.generate) {
    /* IP / ESP, UDP-encapsulated unless the generator asks for plain. */
    const bool plain = fdp.ConsumeBool();
    FuzzBuf g(gen_ipv4(fdp, kIpProtoEsp), kUdpHdrLen, 0);
    pkt = !plain && natt_encap(g.v, sport, kPortNatt) == CodecError::kOk ? view_bytes(g.v) : g.orig;
  } else {
    pkt = rest_as_packet(fdp);
  }
  mutate(pkt, shape.nmut, shape.where, shape.what);
  if (shape.fix) {
    fix_ipv4_csum(pkt, 0);
    fix_udp_csum(pkt);
  }
  const NattOpts opts{.udp_check = verify_udp ? UdpCheck::kFull : UdpCheck::kNoChecksum};

  (void)natt_classify(pkt);  // any bytes at all

  auto d = natt_demux(pkt, opts);
  if (d) {
    FUZZ_CHECK(size_t{d->payload_off} + d->payload_len <= pkt.size());
    FUZZ_CHECK(d->dport == kPortNatt);
    auto c = natt_classify(cbytes(pkt).subspan(d->payload_off, d->payload_len));
    FUZZ_CHECK(c.ok() && c->kind == d->kind && c->spi == d->spi);
    if (d->kind == NattKind::kEsp) FUZZ_CHECK(d->spi >= 256 && d->payload_len >= kEspHdrLen);
    if (d->kind == NattKind::kKeepalive) FUZZ_CHECK(d->payload_len == 1);
  }

  {  // strip
    FuzzBuf b(pkt, headroom, tailroom);
    const CodecError e = natt_decap(b.v, opts);
    FUZZ_CHECK(b.inside());
    FUZZ_CHECK((e == CodecError::kOk) == (d.ok() && d->kind == NattKind::kEsp));
    if (e != CodecError::kOk) {
      FUZZ_CHECK(b.unchanged(headroom));
      if (d) FUZZ_CHECK(e == (d->kind == NattKind::kIke ? CodecError::kIkeMarker
                                                         : CodecError::kNatKeepalive));
      else FUZZ_CHECK(e == d.error());
    } else {
      FUZZ_CHECK(b.v.data_off == headroom + kUdpHdrLen);
      auto ip = ipv4_parse(b.v.bytes(), Ipv4Check::kFull);
      FUZZ_CHECK(ip.ok() && ip->proto == kIpProtoEsp && ip->total_len == b.v.data_len);
      FUZZ_CHECK(ip->total_len - ip->hdr_len == d->payload_len);
      FUZZ_CHECK(std::memcmp(b.v.data() + ip->hdr_len, pkt.data() + d->payload_off,
                             d->payload_len) == 0);
    }
  }
  {  // encap the input as IP / ESP, then strip
    FuzzBuf b(pkt, headroom, tailroom);
    const CodecError e = natt_encap(b.v, sport, kPortNatt);
    FUZZ_CHECK(b.inside());
    if (e != CodecError::kOk) {
      FUZZ_CHECK(b.unchanged(headroom));
    } else {
      const uint32_t len = b.v.data_len - kUdpHdrLen;
      auto dd = natt_demux(b.v.bytes(), {.udp_check = UdpCheck::kFull});
      FUZZ_CHECK(dd.ok() && dd->kind == NattKind::kEsp && dd->sport == sport);
      FUZZ_CHECK(natt_decap(b.v) == CodecError::kOk);
      FUZZ_CHECK(b.v.data_off == headroom && b.v.data_len == len);
      FUZZ_CHECK(std::memcmp(b.v.data(), pkt.data(), len) == 0);
    }
  }
  return 0;
}
