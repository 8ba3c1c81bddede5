/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP inbound with fixed SAs. Three ways in, chosen by the first byte:
 *  0: the bytes are the packet as received (outer IPv4 / [UDP] / ESP);
 *     almost all stop at the outer checks or the ICV;
 *  1: the bytes are an inner payload, encrypted by the matching outbound
 *     SA first, then one byte (chosen by the input) is optionally changed:
 *     this reaches past the ICV into the trailer and inner checks, and an
 *     unchanged packet must come back as it went in;
 *  2: the bytes are an ESP plaintext (payload || padding || trailer) that
 *     the test authenticates itself, so the trailer and inner checks see
 *     arbitrary contents behind a valid ICV.
 * Invariants: never crash, never read or write outside the buffer, good
 * packets lie inside the buffer and start with a valid IPv4 header.
 */
#include <fuzzer/FuzzedDataProvider.h>
#include <intel-ipsec-mb.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "codec/esp.h"
#include "codec/ipv4.h"
#include "crypto/esp.h"
#include "crypto/esp_sa.h"

using namespace mipvpn;

namespace {

struct Pair {
  std::unique_ptr<EspSa> out, in;
  std::vector<uint8_t> ck, ak;
};

struct World {
  std::unique_ptr<EspEngine> eng;
  std::vector<Pair> pairs;  /* per suite: plain, ESN + NAT-T */
  gcm_key_data gcm;         /* of pairs[0]'s key, for way 2 */
  IMB_MGR* mgr = nullptr;
};

World& world() {
  static World* w = [] {
    auto* x = new World();
    std::string err;
    x->eng = EspEngine::create(&err);
    if (!x->eng) std::abort();
    x->mgr = alloc_mb_mgr(0);
    init_mb_mgr_auto(x->mgr, nullptr);
    uint32_t seed = 1;
    for (const auto& s : esp_suites()) {
      for (int variant = 0; variant < 2; ++variant) {
        Pair p;
        p.ck.resize(size_t{s.key_len} + s.salt_len);
        p.ak.resize(s.auth_key_len);
        for (auto& b : p.ck) b = static_cast<uint8_t>(seed++ * 37);
        for (auto& b : p.ak) b = static_cast<uint8_t>(seed++ * 91);
        EspSaConfig c;
        c.spi = 0x4000;
        c.suite = &s;
        c.cipher_key = p.ck;
        c.auth_key = p.ak;
        c.tun_src = Ipv4Addr(192, 0, 2, 1);
        c.tun_dst = Ipv4Addr(192, 0, 2, 2);
        c.esn = variant == 1;
        c.natt_sport = c.natt_dport = variant == 1 ? 4500 : 0;
        c.replay_window = 0;  /* inputs stay independent of each other */
        c.dir = EspDir::kOutbound;
        p.out = EspSa::create(c, &err);
        c.dir = EspDir::kInbound;
        p.in = EspSa::create(c, &err);
        if (!p.out || !p.in) std::abort();
        x->pairs.push_back(std::move(p));
      }
    }
    IMB_AES128_GCM_PRE(x->mgr, x->pairs[0].ck.data(), &x->gcm);
    return x;
  }();
  return *w;
}

void check_good(const PktView& v) {
  if (uint64_t{v.data_off} + v.data_len > v.buf_len) std::abort();
  auto r = ipv4_parse(cbytes(v.data(), v.data_len), Ipv4Check::kNoChecksum);
  if (!r || r->total_len != v.data_len) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  FuzzedDataProvider fdp(data, size);
  const uint8_t way = fdp.ConsumeIntegral<uint8_t>() % 3;
  Pair& p = w.pairs[fdp.ConsumeIntegralInRange<size_t>(0, w.pairs.size() - 1)];
  const uint32_t headroom = fdp.ConsumeIntegralInRange<uint32_t>(0, 128);
  const uint32_t tailroom = fdp.ConsumeIntegralInRange<uint32_t>(0, 64);

  if (way == 0) {
    const auto pkt = fdp.ConsumeRemainingBytes<uint8_t>();
    std::vector<std::byte> buf(headroom + pkt.size() + tailroom + 1);  /* never empty */
    buf.pop_back();
    if (!pkt.empty()) std::memcpy(buf.data() + headroom, pkt.data(), pkt.size());
    PktView v{buf.data(), static_cast<uint32_t>(buf.size()), headroom,
              static_cast<uint32_t>(pkt.size())};
    PktView* vp = &v;
    if (esp_inb_process(*w.eng, *p.in, &vp, 1) == 1) check_good(v);
    return 0;
  }

  if (way == 1) {
    const bool mutate = fdp.ConsumeBool();
    const uint16_t where = fdp.ConsumeIntegral<uint16_t>();
    const uint8_t flip = fdp.ConsumeIntegral<uint8_t>();
    auto body = fdp.ConsumeRemainingBytes<uint8_t>();
    if (body.size() > 2000) body.resize(2000);
    const uint32_t L = static_cast<uint32_t>(20 + body.size());
    std::vector<std::byte> buf(128 + L + 64);
    Ipv4Build b;
    b.src = Ipv4Addr(10, 0, 0, 1);
    b.dst = Ipv4Addr(10, 0, 0, 2);
    b.total_len = static_cast<uint16_t>(L);
    b.proto = kIpProtoUdp;
    ipv4_build(bytes(buf.data() + 128, 20), b);
    if (!body.empty()) std::memcpy(buf.data() + 128 + 20, body.data(), body.size());
    const std::vector<std::byte> inner(buf.begin() + 128, buf.begin() + 128 + L);
    PktView v{buf.data(), static_cast<uint32_t>(buf.size()), 128, L};
    PktView* vp = &v;
    if (esp_outb_process(*w.eng, *p.out, &vp, 1) != 1) std::abort();  /* room was given */
    if (mutate && flip) v.data()[where % v.data_len] ^= std::byte(flip);
    const bool changed = mutate && flip;
    if (esp_inb_process(*w.eng, *p.in, &vp, 1) == 1) {
      check_good(v);
      /* an unchanged packet round-trips; a changed one may pass only if
       * the change was outside what the ICV covers (outer header fields
       * such as TTL, or the UDP checksum) */
      if (!changed && std::memcmp(v.data(), inner.data(), L) != 0) std::abort();
    } else if (!changed) {
      std::abort();
    }
    return 0;
  }

  /* way 2: AES-128-GCM around a plaintext of the input's choosing */
  const uint32_t seq = fdp.ConsumeIntegral<uint32_t>();
  auto plain = fdp.ConsumeRemainingBytes<uint8_t>();
  if (plain.size() > 2000) plain.resize(2000);
  plain.reserve(plain.size() + 1);  /* a valid pointer even when empty */
  Pair& g = w.pairs[0];
  const uint32_t esp_len = static_cast<uint32_t>(8 + 8 + plain.size() + 16);
  std::vector<std::byte> buf(headroom + 20 + esp_len + tailroom);
  std::byte* o = buf.data() + headroom;
  Ipv4Build b;
  b.src = Ipv4Addr(192, 0, 2, 2);
  b.dst = Ipv4Addr(192, 0, 2, 1);
  b.total_len = static_cast<uint16_t>(20 + esp_len);
  b.proto = kIpProtoEsp;
  ipv4_build(bytes(o, 20), b);
  auto* e = reinterpret_cast<uint8_t*>(o + 20);
  esp_hdr_write(bytes(o + 20, 8), 0x4000, seq);
  std::memset(e + 8, 0x11, 8);
  uint8_t nonce[12];
  std::memcpy(nonce, g.ck.data() + 16, 4);
  std::memcpy(nonce + 4, e + 8, 8);
  gcm_context_data ctx;
  IMB_AES128_GCM_ENC(w.mgr, &w.gcm, &ctx, e + 16, plain.data(), plain.size(), nonce, e, 8,
                     e + 16 + plain.size(), 16);
  PktView v{buf.data(), static_cast<uint32_t>(buf.size()), headroom, 20 + esp_len};
  PktView* vp = &v;
  if (esp_inb_process(*w.eng, *g.in, &vp, 1) == 1) {
    check_good(v);
  } else {
    const auto d = static_cast<EspDrop>(v.drop);
    /* authentic by construction: only content or sequence refusals */
    if (d == EspDrop::kAuthFailed || d == EspDrop::kSpiMismatch || d == EspDrop::kBadOuter)
      std::abort();
  }
  return 0;
}
