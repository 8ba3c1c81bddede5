/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HomeAgent::process_request with random configuration, random metadata
 * (source, port, interface, clock) and a series of requests: raw bytes,
 * or well-signed requests with random fields and extensions (to reach the
 * binding logic), some then damaged. Invariants:
 *   - nothing is read outside the request or written outside the reply
 *     buffer (AddressSanitizer: both exactly sized heap buffers);
 *   - a reply parses as a Registration Reply whose code is the verdict's,
 *     and copies the request's low 32 Identification bits when the
 *     request's fixed part was readable;
 *   - an i-HA never answers an untrusted source, and every i-HA reply
 *     carries TNC before the authenticator;
 *   - an accepted registration (lifetime != 0) leaves a binding for the
 *     home address with the care-of address and at most kMaxCoa entries;
 *   - expire() at any time leaves only bindings that have not expired.
 */
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "ha/home_agent.h"

using namespace mipvpn;

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

namespace {

MipSa fuzz_sa() {
  MipSa sa;
  sa.spi = 0x1000;
  std::vector<std::byte> k(16);
  for (size_t i = 0; i < k.size(); ++i) k[i] = std::byte(i + 1);
  sa.set_key(k);
  return sa;
}

Ipv4Addr pick_addr(FuzzedDataProvider& f) {
  static const Ipv4Addr some[] = {Ipv4Addr(10, 1, 0, 5), Ipv4Addr(10, 1, 0, 1), Ipv4Addr(192, 0, 2, 7),
                                  Ipv4Addr(198, 51, 100, 9), Ipv4Addr(), Ipv4Addr(224, 0, 0, 1)};
  if (f.ConsumeBool()) return some[f.ConsumeIntegralInRange<size_t>(0, 5)];
  return Ipv4Addr(f.ConsumeIntegral<uint32_t>());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider f(data, size);
  HaConfig cfg;
  cfg.addresses = {Ipv4Addr(10, 1, 0, 1)};
  cfg.role = f.ConsumeBool() ? HaRole::kIha : HaRole::kXha;
  if (f.ConsumeBool()) cfg.trusted.push_back({Ipv4Addr(192, 0, 2, 0), 24});
  cfg.drop_from_internal = f.ConsumeBool();
  cfg.max_lifetime = f.ConsumeIntegralInRange<uint16_t>(1, 0xffff);
  cfg.max_simultaneous = f.ConsumeIntegralInRange<uint8_t>(1, Binding::kMaxCoa);
  cfg.reverse_tunnel = f.ConsumeBool();
  cfg.reverse_tunnel_required = cfg.reverse_tunnel && f.ConsumeBool();
  cfg.udp_tunnel = static_cast<HaUdpTunnelPolicy>(f.ConsumeIntegralInRange<uint8_t>(0, 2));
  cfg.max_bindings = f.ConsumeIntegralInRange<uint32_t>(0, 4);
  HomeAgent ha(cfg, 4);
  HaMobileNode mn;
  mn.home = Ipv4Addr(10, 1, 0, 5);
  mn.nai = "mn@example.org";
  mn.sa = fuzz_sa();
  mn.sa.replay = f.ConsumeBool() ? MipReplayMethod::kNonces : MipReplayMethod::kTimestamps;
  FUZZ_CHECK(ha.add_mobile_node(mn) == MipError::kOk);
  ha.set_log_sink([](std::string_view) {});
  MipHmacMd5 h;
  uint64_t now = mip_ntp_from_unix(1700000000);

  for (int round = 0; round < 8 && f.remaining_bytes() > 0; ++round) {
    RequestMeta meta;
    meta.src = pick_addr(f);
    meta.src_port = f.ConsumeIntegral<uint16_t>();
    meta.dst = cfg.addresses[0];
    meta.internal_iface = f.ConsumeBool();
    now += uint64_t{f.ConsumeIntegralInRange<uint32_t>(0, 4000)} << 32;
    meta.now_ntp = now;

    std::vector<std::byte> req;
    if (f.ConsumeBool()) {
      const auto raw = f.ConsumeBytes<std::byte>(f.ConsumeIntegralInRange<size_t>(0, 300));
      req = raw;
    } else {
      MipRequest rq;
      const uint8_t fl = f.ConsumeIntegral<uint8_t>();
      rq.s = fl & kMipFlagS, rq.b = fl & kMipFlagB, rq.d = fl & kMipFlagD, rq.m = fl & kMipFlagM;
      rq.g = fl & kMipFlagG, rq.t = fl & kMipFlagT;
      rq.lifetime = f.ConsumeBool() ? 0 : f.ConsumeIntegral<uint16_t>();
      rq.home_addr = f.ConsumeBool() ? mn.home : pick_addr(f);
      rq.home_agent = f.ConsumeBool() ? cfg.addresses[0] : pick_addr(f);
      rq.care_of = pick_addr(f);
      rq.id = f.ConsumeBool() ? now + f.ConsumeIntegral<uint16_t>() : f.ConsumeIntegral<uint64_t>();
      std::vector<std::byte> buf(512);
      MipMsgBuilder b(buf);
      b.request(rq);
      if (f.ConsumeBool()) b.add_nai("mn@example.org");
      if (f.ConsumeBool())
        b.add_udp_tunnel_request(MipUdpTunnelReq{.sub_type = f.ConsumeIntegralInRange<uint8_t>(0, 1),
                                                 .f = f.ConsumeBool(),
                                                 .encap = f.PickValueInArray<uint8_t>({4, 47, 55})});
      if (f.ConsumeBool()) {
        const auto d = f.ConsumeBytes<std::byte>(f.ConsumeIntegralInRange<size_t>(0, 8));
        b.add_raw(f.ConsumeIntegral<uint8_t>(), d);
      }
      if (f.ConsumeBool()) mip_add_auth(b, h, mn.sa);
      req.assign(b.msg().begin(), b.msg().end());
      if (!req.empty() && f.ConsumeBool()) {
        const size_t at = f.ConsumeIntegralInRange<size_t>(0, req.size() - 1);
        req[at] ^= std::byte(f.ConsumeIntegralInRange<uint8_t>(1, 255));
      }
      if (f.ConsumeBool()) req.resize(req.size() - f.ConsumeIntegralInRange<size_t>(0, req.size()));
    }
    /* Exactly sized heap copies: ASan sees any overrun. */
    std::unique_ptr<std::byte[]> in(new std::byte[req.size() + 1]);
    std::copy(req.begin(), req.end(), in.get());
    const size_t out_len = f.ConsumeIntegralInRange<size_t>(0, 128);
    std::unique_ptr<std::byte[]> out(new std::byte[out_len + 1]);
    const cbytes reqs(in.get(), req.size());
    const HaVerdict v = ha.process_request(reqs, meta, bytes(out.get(), out_len));

    bool trusted = false;
    for (const auto& p : cfg.trusted) trusted |= p.contains(meta.src);
    if (cfg.role == HaRole::kIha && !trusted) FUZZ_CHECK(!v.reply);
    if (!v.reply) continue;
    FUZZ_CHECK(v.len <= out_len);
    const cbytes rep(out.get(), v.len);
    const auto rp = mip_parse_reply(rep);
    FUZZ_CHECK(rp.ok());
    FUZZ_CHECK(rp->code == v.code);
    const auto rq = mip_parse_request(reqs);
    FUZZ_CHECK(rq.ok());
    FUZZ_CHECK(mip_reply_id_matches(rq->id, rp->id));
    const auto x = mip_scan_extensions(rep);
    FUZZ_CHECK(x.ok());
    if (cfg.role == HaRole::kIha) FUZZ_CHECK(x->tnc && (!x->mn_ha.present || x->tnc_before_auth));
    if (mip_code_accepted(v.code) && rq->lifetime != 0) {
      const Binding* bd = ha.bindings().lookup(rp->home_addr);
      FUZZ_CHECK(bd != nullptr);
      FUZZ_CHECK(bd->n_coa >= 1 && bd->n_coa <= Binding::kMaxCoa);
      FUZZ_CHECK(bd->find(rq->care_of) >= 0);
    }
    if (f.ConsumeBool()) {
      const uint64_t t = now + (uint64_t{f.ConsumeIntegral<uint16_t>()} << 32);
      ha.expire(t);
      const uint32_t ts = static_cast<uint32_t>(t >> 32);
      ha.bindings().for_each([&](const Binding& b) {
        for (int i = 0; i < b.n_coa; ++i)
          FUZZ_CHECK(b.coa[i].infinite() || static_cast<int32_t>(b.coa[i].expires_s - ts) > 0);
      });
    }
  }
  return 0;
}
