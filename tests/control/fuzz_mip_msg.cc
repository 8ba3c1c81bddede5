/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registration messages (RFC 5944 3.3, 3.4) and their extensions: the
 * fixed-part parsers, the extension walker, mip_scan_extensions and the
 * MN-HA authenticator verification with a fixed key, on raw bytes or on
 * generated messages that are then damaged. Invariants:
 *   - nothing is read outside the message (AddressSanitizer: the message
 *     sits in an exactly sized heap buffer);
 *   - a parsed fixed part rebuilds to the same bytes;
 *   - the walker's extensions tile the message exactly, in order, inside
 *     it; its verdict and mip_scan_extensions' agree;
 *   - TNC counts as covered only when it lies before the MN-HA extension;
 *   - re-signing the bytes before the MN-HA extension verifies, and a
 *     message whose verification succeeds still does after bytes are
 *     appended to it (they are not covered);
 *   - replay decisions always copy the request's low 32 bits.
 */
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "mip/auth.h"
#include "mip/msg.h"
#include "mip/replay.h"

using namespace mipvpn;

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

namespace {

MipSa fuzz_sa() {
  MipSa sa;
  sa.spi = 0x1000;
  const uint8_t k[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  sa.set_key(cbytes(reinterpret_cast<const std::byte*>(k), sizeof(k)));
  return sa;
}

MipHmacMd5& hmac() {
  static MipHmacMd5 h;
  return h;
}

/* A message built from fuzzed choices, so that the fuzzer starts past the
 * fixed-part checks and reaches every extension parser. */
std::vector<std::byte> generate(FuzzedDataProvider& fdp) {
  std::vector<std::byte> buf(1024);
  MipMsgBuilder b(buf);
  if (fdp.ConsumeBool()) {
    MipRequest r;
    const uint8_t f = fdp.ConsumeIntegral<uint8_t>();
    r.s = f & 0x80, r.b = f & 0x40, r.d = f & 0x20, r.m = f & 0x10;
    r.g = f & 0x08, r.r = f & 0x04, r.t = f & 0x02, r.x = f & 0x01;
    r.lifetime = fdp.ConsumeIntegral<uint16_t>();
    r.home_addr = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>());
    r.id = fdp.ConsumeIntegral<uint64_t>();
    b.request(r);
  } else {
    b.reply(MipReply{.code = fdp.ConsumeIntegral<uint8_t>(),
                     .lifetime = fdp.ConsumeIntegral<uint16_t>(),
                     .id = fdp.ConsumeIntegral<uint64_t>()});
  }
  const int n = fdp.ConsumeIntegralInRange<int>(0, 8);
  for (int i = 0; i < n; ++i) {
    switch (fdp.ConsumeIntegralInRange<int>(0, 8)) {
      case 0: b.add_nai(fdp.ConsumeBool() ? "mn@example.com" : "x"); break;
      case 1:
        b.add_udp_tunnel_request(MipUdpTunnelReq{.sub_type = fdp.ConsumeIntegral<uint8_t>(),
                                                 .f = fdp.ConsumeBool(),
                                                 .r = fdp.ConsumeBool(),
                                                 .encap = fdp.ConsumeIntegral<uint8_t>()});
        break;
      case 2:
        b.add_udp_tunnel_reply(MipUdpTunnelRep{.code = fdp.ConsumeIntegral<uint8_t>(),
                                               .f = fdp.ConsumeBool(),
                                               .keepalive = fdp.ConsumeIntegral<uint16_t>()});
        break;
      case 3: b.add_tnc(fdp.ConsumeBool() ? 0 : fdp.ConsumeIntegral<uint8_t>()); break;
      case 4:
        b.add_revocation_support(MipRevSupport{.i = fdp.ConsumeBool(),
                                               .timestamp = fdp.ConsumeIntegral<uint32_t>()});
        break;
      case 5: mip_add_auth(b, hmac(), fuzz_sa()); break;
      case 6: mip_add_auth(b, hmac(), fuzz_sa(), kMipExtMnFaAuth); break;
      default: {
        auto d = fdp.ConsumeBytes<uint8_t>(fdp.ConsumeIntegralInRange<size_t>(0, 12));
        b.add_raw(fdp.ConsumeIntegral<uint8_t>(),
                  cbytes(reinterpret_cast<const std::byte*>(d.data()), d.size()));
        break;
      }
    }
  }
  return {b.msg().begin(), b.msg().end()};
}

void check_fixed(cbytes m) {
  if (auto rq = mip_parse_request(m)) {
    FUZZ_CHECK(m.size() >= kMipRequestLen && mip_fixed_len(m) == kMipRequestLen);
    std::byte out[kMipRequestLen];
    MipMsgBuilder b(out);
    FUZZ_CHECK(b.request(*rq) == MipError::kOk);
    FUZZ_CHECK(std::memcmp(out, m.data(), kMipRequestLen) == 0);
  }
  if (auto rp = mip_parse_reply(m)) {
    FUZZ_CHECK(m.size() >= kMipReplyLen && mip_fixed_len(m) == kMipReplyLen);
    std::byte out[kMipReplyLen];
    MipMsgBuilder b(out);
    FUZZ_CHECK(b.reply(*rp) == MipError::kOk);
    FUZZ_CHECK(std::memcmp(out, m.data(), kMipReplyLen) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const bool gen = fdp.ConsumeBool();
  const uint8_t nmut = fdp.ConsumeIntegralInRange<uint8_t>(0, 3);
  const uint64_t where = fdp.ConsumeIntegral<uint64_t>();
  const uint32_t what = fdp.ConsumeIntegral<uint32_t>();
  const size_t cut = fdp.ConsumeIntegral<uint16_t>();
  const uint64_t now = fdp.ConsumeIntegral<uint64_t>();
  const uint32_t tol = fdp.ConsumeIntegralInRange<uint32_t>(0, 100);
  const uint32_t nonce = fdp.ConsumeIntegral<uint32_t>();
  std::vector<std::byte> v;
  if (gen) {
    v = generate(fdp);
    uint64_t w = where;
    uint32_t x = what;
    for (uint8_t i = 0; i < nmut && !v.empty(); ++i, x >>= 8) {
      v[w % v.size()] = std::byte(x & 0xff);
      w /= v.size() + 1;
    }
    if (cut && cut < v.size()) v.resize(cut);
  } else {
    auto raw = fdp.ConsumeRemainingBytes<uint8_t>();
    v.resize(raw.size());
    if (!raw.empty()) std::memcpy(v.data(), raw.data(), raw.size());
  }
  /* Exactly sized heap copy: ASan flags any read past the end. */
  std::unique_ptr<std::byte[]> heap(new std::byte[v.size() + 1]);
  if (!v.empty()) std::memcpy(heap.get(), v.data(), v.size());
  const cbytes m(heap.get(), v.size());

  check_fixed(m);

  const uint16_t first = mip_fixed_len(m);
  MipError walk_err = MipError::kOk;
  uint16_t walked = 0;
  if (first && m.size() >= first) {
    MipExtWalker w(m, first);
    uint32_t expect = first;
    for (MipExt e; w.next(&e);) {
      ++walked;
      FUZZ_CHECK(e.offset == expect);
      FUZZ_CHECK(e.end() <= m.size());
      FUZZ_CHECK(e.data.size() == e.length && e.data.data() == m.data() + e.offset + 2);
      FUZZ_CHECK(e.known || mip_ext_skippable(e.type));
      FUZZ_CHECK(!e.has_sub_type || (e.length >= 1 && e.sub_type == std::to_integer<uint8_t>(e.data[0])));
      expect = e.end();
    }
    walk_err = w.error();
    if (walk_err == MipError::kOk) FUZZ_CHECK(expect == m.size() && w.offset() == m.size());
    FUZZ_CHECK(walk_err == MipError::kOk || walk_err == MipError::kExtTruncated ||
               walk_err == MipError::kUnknownNonSkippable);
  }

  auto x = mip_scan_extensions(m);
  if (x) {
    FUZZ_CHECK(first && walk_err == MipError::kOk && x->count == walked);
    FUZZ_CHECK(x->skipped <= x->count);
    for (const MipAuthExt* a : {&x->mn_ha, &x->mn_fa, &x->fa_ha}) {
      if (!a->present) continue;
      FUZZ_CHECK(a->offset >= first);
      FUZZ_CHECK(a->covered_len() + a->authenticator.size() <= m.size());
      FUZZ_CHECK(a->authenticator.data() == m.data() + a->covered_len());
    }
    if (x->has_nai) FUZZ_CHECK(!x->nai.empty());
    if (x->tnc) {
      FUZZ_CHECK(std::to_integer<uint8_t>(m[x->tnc_offset]) == kMipExtTnc);
      FUZZ_CHECK(std::to_integer<uint8_t>(m[x->tnc_offset + 1]) == 2);
      FUZZ_CHECK(std::to_integer<uint8_t>(m[x->tnc_offset + 2]) == 0);
    }
    if (x->tnc_before_auth) FUZZ_CHECK(x->tnc && x->mn_ha.present && x->tnc_offset + 4 <= x->mn_ha.offset);

    const MipSa sa = fuzz_sa();
    const MipError ver = mip_verify_mn_ha(hmac(), sa, m, *x);
    FUZZ_CHECK(x->mn_ha.present || ver == MipError::kAuthMissing);
    FUZZ_CHECK(!mip_authenticated_tnc(hmac(), sa, m, *x) || (ver == MipError::kOk && x->tnc_before_auth));
    if (ver == MipError::kOk) {
      /* Appended bytes are not covered: still verifies. */
      std::vector<std::byte> more(m.begin(), m.end());
      const std::byte tail[] = {std::byte{200}, std::byte{1}, std::byte{0}};
      more.insert(more.end(), std::begin(tail), std::end(tail));
      auto y = mip_scan_extensions(more);
      FUZZ_CHECK(y.ok() && mip_verify_mn_ha(hmac(), sa, more, *y) == MipError::kOk);
    }
    if (x->mn_ha.present) {
      /* Re-sign what precedes the MN-HA extension: it must verify. */
      std::vector<std::byte> buf(x->mn_ha.offset + 22);
      std::memcpy(buf.data(), m.data(), x->mn_ha.offset);
      MipMsgBuilder b(buf);
      if (std::to_integer<uint8_t>(m[0]) == kMipTypeRegRequest)
        b.request(*mip_parse_request(m));
      else
        b.reply(*mip_parse_reply(m));
      MipExtWalker w(m, first);
      for (MipExt e; w.next(&e) && e.offset < x->mn_ha.offset;) b.add_raw(e.type, e.data);
      FUZZ_CHECK(b.size() == x->mn_ha.offset);
      FUZZ_CHECK(std::memcmp(b.msg().data(), m.data(), b.size()) == 0);
      FUZZ_CHECK(mip_add_auth(b, hmac(), sa) == MipError::kOk);
      auto y = mip_scan_extensions(b.msg());
      FUZZ_CHECK(y.ok() && mip_verify_mn_ha(hmac(), sa, b.msg(), *y) == MipError::kOk);
      if (ver == MipError::kOk) FUZZ_CHECK(std::memcmp(b.msg().data(), m.data(), b.size()) == 0);
    }
  } else if (first && m.size() >= first && walk_err != MipError::kOk) {
    /* The walker's verdict comes first unless scan refused an earlier extension. */
    FUZZ_CHECK(x.error() == walk_err || x.error() == MipError::kBadExtLength ||
               x.error() == MipError::kDuplicateExt);
  }

  /* Replay: whatever the verdict, the low 32 bits are the request's. */
  if (auto rq = mip_parse_request(m)) {
    const MipReplayState st{.have_last = (now & 1) != 0, .last_id = now ^ rq->id,
                            .have_nonce = (now & 2) != 0, .nonce = static_cast<uint32_t>(now >> 7)};
    const auto t = mip_replay_check_timestamp(st, rq->id, now, tol);
    FUZZ_CHECK(mip_reply_id_matches(rq->id, t.reply_id));
    FUZZ_CHECK(t.ok() == (t.code == MipReplyCode::kAccepted));
    if (t.ok()) {
      FUZZ_CHECK(t.reply_id == rq->id);
      const int64_t d = static_cast<int64_t>(rq->id - now);
      FUZZ_CHECK(d >= -(static_cast<int64_t>(tol) << 32) && d <= (static_cast<int64_t>(tol) << 32));
    } else {
      FUZZ_CHECK((t.reply_id >> 32) == (now >> 32));
    }
    const auto n = mip_replay_check_nonce(st, rq->id, nonce);
    FUZZ_CHECK(mip_reply_id_matches(rq->id, n.reply_id) && (n.reply_id >> 32) == nonce);
    FUZZ_CHECK(n.ok() == (st.have_nonce && static_cast<uint32_t>(rq->id >> 32) == st.nonce));
  }
  return 0;
}
