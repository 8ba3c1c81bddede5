/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registration Request / Reply codec (RFC 5944 3.3, 3.4) and the
 * extension walker (RFC 5944 1.8-1.11) with the extensions of RFC 2794,
 * RFC 3519, RFC 3543 and RFC 5265.
 */
#include <gtest/gtest.h>

#include <array>

#include "mip/auth.h"
#include "mip/msg.h"
#include "mip_test_util.h"

using namespace mipvpn;
using namespace mipvpn::test;

namespace {

Bytes build_request(const MipRequest& r) {
  Bytes buf(kMipRequestLen);
  MipMsgBuilder b(buf);
  EXPECT_EQ(b.request(r), MipError::kOk);
  return to_vec(b.msg());
}

/* A request fixed part (from test_request) followed by raw extension bytes. */
Bytes request_with(const Bytes& exts) { return cat(build_request(test_request()), exts); }
Bytes reply_with(const Bytes& exts) {
  Bytes buf(kMipReplyLen);
  MipMsgBuilder b(buf);
  b.reply(MipReply{.code = 0, .lifetime = 60, .home_addr = Ipv4Addr(10, 1, 0, 5),
                   .home_agent = Ipv4Addr(10, 1, 0, 1), .id = 0x0102030405060708ULL});
  return cat(to_vec(b.msg()), exts);
}

}  // namespace

/* ---------------- fixed parts ---------------- */

TEST(MipMsg, RequestEveryFlagRoundTrips) {
  for (int f = 0; f < 256; ++f) {
    MipRequest r = test_request();
    r.s = f & 0x80;
    r.b = f & 0x40;
    r.d = f & 0x20;
    r.m = f & 0x10;
    r.g = f & 0x08;
    r.r = f & 0x04;
    r.t = f & 0x02;
    r.x = f & 0x01;
    const Bytes m = build_request(r);
    ASSERT_EQ(m.size(), kMipRequestLen);
    EXPECT_EQ(std::to_integer<int>(m[1]), f);  /* S B D M G r T x, high bit first */
    auto p = mip_parse_request(m);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, r) << f;
  }
}

TEST(MipMsg, RequestFieldsRoundTrip) {
  const uint64_t ids[] = {0, 1, 0xffffffffffffffffULL, 0x8000000000000000ULL, 0x00000001ffffffffULL};
  const uint16_t lifetimes[] = {0, 1, 180, kMipLifetimeInfinite};
  for (uint64_t id : ids) {
    for (uint16_t lt : lifetimes) {
      MipRequest r;
      r.lifetime = lt;
      r.id = id;
      r.home_addr = Ipv4Addr(0xffffffff);
      r.home_agent = Ipv4Addr(0);
      r.care_of = Ipv4Addr(0x01020304);
      auto p = mip_parse_request(build_request(r));
      ASSERT_TRUE(p.ok());
      EXPECT_EQ(*p, r);
    }
  }
}

TEST(MipMsg, ReplyEveryCodeRoundTrips) {
  for (int code = 0; code < 256; ++code) {
    MipReply r{.code = static_cast<uint8_t>(code), .lifetime = static_cast<uint16_t>(code * 257),
               .home_addr = Ipv4Addr(10, 0, 0, code), .home_agent = Ipv4Addr(10, 0, 1, 1),
               .id = 0x1122334455667788ULL ^ static_cast<uint64_t>(code)};
    std::array<std::byte, kMipReplyLen> buf{};
    MipMsgBuilder b(buf);
    ASSERT_EQ(b.reply(r), MipError::kOk);
    ASSERT_EQ(b.size(), kMipReplyLen);
    EXPECT_EQ(std::to_integer<int>(buf[0]), 3);
    EXPECT_EQ(std::to_integer<int>(buf[1]), code);
    auto p = mip_parse_reply(b.msg());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, r);
  }
}

TEST(MipMsg, FixedPartErrors) {
  const Bytes rq = build_request(test_request());
  for (size_t n = 0; n < kMipRequestLen; ++n)
    EXPECT_EQ(mip_parse_request(cbytes(rq).first(n)).error(), MipError::kTruncated) << n;
  const Bytes rp = reply_with({});
  for (size_t n = 0; n < kMipReplyLen; ++n)
    EXPECT_EQ(mip_parse_reply(cbytes(rp).first(n)).error(), MipError::kTruncated) << n;
  EXPECT_EQ(mip_parse_request(rp).error(), MipError::kTruncated);  /* 20 < 24 */
  EXPECT_EQ(mip_parse_reply(rq).error(), MipError::kBadType);
  Bytes four = rq;
  four[0] = std::byte{4};  /* tunnel data, RFC 3519 */
  EXPECT_EQ(mip_parse_request(four).error(), MipError::kBadType);
  EXPECT_EQ(mip_scan_extensions(four).error(), MipError::kBadType);
  EXPECT_EQ(mip_scan_extensions({}).error(), MipError::kTruncated);
  EXPECT_EQ(mip_scan_extensions(cbytes(rq).first(10)).error(), MipError::kTruncated);
  Bytes huge(70000);
  huge[0] = std::byte{1};
  EXPECT_EQ(mip_parse_request(huge).error(), MipError::kTooBig);
  EXPECT_EQ(mip_scan_extensions(huge).error(), MipError::kTooBig);
  /* Truncated fixed parts are discarded silently (no home address to answer). */
  EXPECT_EQ(mip_error_action(MipError::kTruncated), MipAction::kDiscard);
}

/* ---------------- byte-exact vectors ---------------- */

/*
 * Laid out by hand from RFC 5944 3.3 (fixed part), RFC 2794 (NAI) and
 * RFC 3519 3.1 (UDP Tunnel Request), then RFC 5944 3.5.2 (MN-HA auth).
 */
TEST(MipMsg, RequestMatchesHandLayout) {
  const Bytes want = cat(
      hex({
          0x01,                    /* Type 1: Registration Request */
          0x82,                    /* S (0x80) and T (0x02) */
          0x07, 0x08,              /* Lifetime 1800 */
          10, 1, 0, 5,             /* Home Address */
          10, 1, 0, 1,             /* Home Agent */
          192, 0, 2, 7,            /* Care-of Address */
          0xe7, 0xa1, 0xb2, 0xc3,  /* Identification, high 32 bits */
          0x00, 0x00, 0x12, 0x34,  /* Identification, low 32 bits */
          131, 15,                 /* NAI extension, Length 15 */
      }),
      cat(str("mn1@example.com"),
          hex({
              144, 6,    /* UDP Tunnel Request, Length 6 */
              0,         /* Sub-Type 0 */
              0,         /* Reserved 1 */
              0x80,      /* F set, R clear, Reserved 2 zero */
              4,         /* Encapsulation: IP in IP */
              0, 0,      /* Reserved 3 */
              32, 20,    /* MN-HA auth, Length 4 + 16 */
              0x00, 0x00, 0x10, 0x00,  /* SPI 0x1000 */
          })));
  std::array<std::byte, 128> buf{};
  MipMsgBuilder b(buf);
  b.request(test_request());
  b.add_nai("mn1@example.com");
  b.add_udp_tunnel_request(MipUdpTunnelReq{.f = true, .encap = 4});
  MipHmacMd5 h;
  ASSERT_EQ(h.init_error(), MipError::kOk);
  ASSERT_EQ(mip_add_auth(b, h, test_sa()), MipError::kOk);
  ASSERT_EQ(b.size(), want.size() + 16);
  EXPECT_EQ(to_vec(b.msg().first(want.size())), want);
}

/*
 * The same request from scapy 2.5.0 (MobileIP/MobileIPRRQ, extensions as
 * raw bytes, authenticator from Python's hmac over bytes 0..54):
 *   MobileIP(type=1)/MobileIPRRQ(flags=0x82, lifetime=1800,
 *     homeaddr="10.1.0.5", haaddr="10.1.0.1", coaddr="192.0.2.7",
 *     id=0xE7A1B2C300001234)/Raw(NAI + UDP tunnel request + 32,20,SPI)
 *   + hmac.new(bytes(range(1, 17)), that, hashlib.md5).digest()
 */
const Bytes kScapyRequest = hex({
    0x01, 0x82, 0x07, 0x08, 0x0a, 0x01, 0x00, 0x05, 0x0a, 0x01, 0x00, 0x01, 0xc0, 0x00, 0x02,
    0x07, 0xe7, 0xa1, 0xb2, 0xc3, 0x00, 0x00, 0x12, 0x34, 0x83, 0x0f, 0x6d, 0x6e, 0x31, 0x40,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x90, 0x06, 0x00, 0x00,
    0x80, 0x04, 0x00, 0x00, 0x20, 0x14, 0x00, 0x00, 0x10, 0x00, 0x06, 0x81, 0x02, 0x15, 0x22,
    0x88, 0x0d, 0xae, 0x99, 0x16, 0x31, 0xe9, 0xf5, 0x59, 0x5c, 0xba});

/* A reply from scapy (MobileIPRRP) with TNC, a UDP Tunnel Reply
 * (F, keepalive 30) and the MN-HA auth, same key. */
const Bytes kScapyReply = hex({
    0x03, 0x00, 0x07, 0x08, 0x0a, 0x01, 0x00, 0x05, 0x0a, 0x01, 0x00, 0x01, 0xe7, 0xa1,
    0xb2, 0xc3, 0x00, 0x00, 0x12, 0x34, 0x95, 0x02, 0x00, 0x00, 0x2c, 0x06, 0x00, 0x00,
    0x80, 0x00, 0x00, 0x1e, 0x20, 0x14, 0x00, 0x00, 0x10, 0x00, 0x8e, 0x22, 0xc6, 0xaf,
    0x35, 0x09, 0xaf, 0xd7, 0x41, 0x1d, 0xc1, 0x2f, 0x57, 0xe1, 0x56, 0x7a});

TEST(MipMsg, BuilderMatchesScapyBytes) {
  std::array<std::byte, 128> buf{};
  MipMsgBuilder b(buf);
  b.request(test_request());
  b.add_nai("mn1@example.com");
  b.add_udp_tunnel_request(MipUdpTunnelReq{.f = true, .encap = 4});
  MipHmacMd5 h;
  ASSERT_EQ(mip_add_auth(b, h, test_sa()), MipError::kOk);
  EXPECT_EQ(to_vec(b.msg()), kScapyRequest);

  MipMsgBuilder r(buf);
  r.reply(MipReply{.code = 0, .lifetime = 1800, .home_addr = Ipv4Addr(10, 1, 0, 5),
                   .home_agent = Ipv4Addr(10, 1, 0, 1), .id = 0xE7A1B2C300001234ULL});
  r.add_tnc();
  r.add_udp_tunnel_reply(MipUdpTunnelRep{.code = 0, .f = true, .keepalive = 30});
  ASSERT_EQ(mip_add_auth(r, h, test_sa()), MipError::kOk);
  EXPECT_EQ(to_vec(r.msg()), kScapyReply);
}

TEST(MipMsg, ParsesScapyRequest) {
  auto rq = mip_parse_request(kScapyRequest);
  ASSERT_TRUE(rq.ok());
  EXPECT_EQ(*rq, test_request());
  auto x = mip_scan_extensions(kScapyRequest);
  ASSERT_TRUE(x.ok()) << to_string(x.error());
  EXPECT_EQ(x->count, 3);
  EXPECT_EQ(x->skipped, 0);
  ASSERT_TRUE(x->has_nai);
  EXPECT_EQ(to_vec(x->nai), str("mn1@example.com"));
  ASSERT_TRUE(x->has_udp_tun_req);
  EXPECT_EQ(x->udp_tun_req, (MipUdpTunnelReq{.f = true, .encap = 4}));
  ASSERT_TRUE(x->mn_ha.present);
  EXPECT_EQ(x->mn_ha.offset, 49u);
  EXPECT_EQ(x->mn_ha.spi, 0x1000u);
  EXPECT_EQ(x->mn_ha.covered_len(), 55u);
  EXPECT_EQ(x->mn_ha.authenticator.size(), 16u);
  EXPECT_FALSE(x->tnc);
  MipHmacMd5 h;
  EXPECT_EQ(mip_verify_mn_ha(h, test_sa(), kScapyRequest, *x), MipError::kOk);
}

TEST(MipMsg, ParsesScapyReply) {
  auto rp = mip_parse_reply(kScapyReply);
  ASSERT_TRUE(rp.ok());
  EXPECT_EQ(rp->code, 0);
  EXPECT_EQ(rp->lifetime, 1800);
  EXPECT_EQ(rp->id, 0xE7A1B2C300001234ULL);
  auto x = mip_scan_extensions(kScapyReply);
  ASSERT_TRUE(x.ok());
  EXPECT_TRUE(x->tnc);
  EXPECT_EQ(x->tnc_offset, 20u);
  EXPECT_TRUE(x->tnc_before_auth);
  ASSERT_TRUE(x->has_udp_tun_rep);
  EXPECT_EQ(x->udp_tun_rep, (MipUdpTunnelRep{.code = 0, .f = true, .keepalive = 30}));
  MipHmacMd5 h;
  EXPECT_TRUE(mip_authenticated_tnc(h, test_sa(), kScapyReply, *x));
}

/* ---------------- the walker ---------------- */

TEST(MipMsg, WalkerReportsEveryExtension) {
  const Bytes m = request_with(cat(
      hex({131, 3, 'a', '@', 'b',          /* NAI */
           200, 0,                         /* unknown skippable, empty */
           149, 2, 7, 0xff,                /* 149 sub-type 7 */
           44, 6, 0, 64, 0, 0, 0, 5,       /* UDP Tunnel Reply */
           250, 4, 1, 2, 3, 4}),           /* unknown skippable */
      hex({32, 4, 0, 0, 1, 0})));          /* MN-HA auth, empty authenticator */
  MipExtWalker w(m, kMipRequestLen);
  std::vector<MipExt> seen;
  for (MipExt e; w.next(&e);) seen.push_back(e);
  EXPECT_EQ(w.error(), MipError::kOk);
  EXPECT_EQ(w.offset(), m.size());
  ASSERT_EQ(seen.size(), 6u);
  const uint8_t types[] = {131, 200, 149, 44, 250, 32};
  const uint32_t offs[] = {24, 29, 31, 35, 43, 49};
  const uint8_t lens[] = {3, 0, 2, 6, 4, 4};
  const bool known[] = {true, false, true, true, false, true};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].type, types[i]) << i;
    EXPECT_EQ(seen[i].offset, offs[i]) << i;
    EXPECT_EQ(seen[i].length, lens[i]) << i;
    EXPECT_EQ(seen[i].known, known[i]) << i;
    EXPECT_EQ(seen[i].data.size(), lens[i]) << i;
    EXPECT_EQ(seen[i].data.data(), m.data() + offs[i] + 2) << i;
  }
  /* Short format sub-types (RFC 5944 1.11) for 149 and 44 only. */
  EXPECT_TRUE(seen[2].has_sub_type);
  EXPECT_EQ(seen[2].sub_type, 7);
  EXPECT_EQ(seen[2].format, MipExtFormat::kShort);
  EXPECT_TRUE(seen[3].has_sub_type);
  EXPECT_EQ(seen[3].sub_type, 0);
  EXPECT_FALSE(seen[0].has_sub_type);
  EXPECT_EQ(seen[0].format, MipExtFormat::kTypeLength);

  auto x = mip_scan_extensions(m);
  ASSERT_TRUE(x.ok()) << to_string(x.error());
  EXPECT_EQ(x->count, 6);
  EXPECT_EQ(x->skipped, 3);  /* 200, 250 and the non-TNC 149 */
  EXPECT_FALSE(x->tnc);
  EXPECT_EQ(x->udp_tun_rep.code, 64);
  EXPECT_EQ(x->udp_tun_rep.keepalive, 5);
}

TEST(MipMsg, NoExtensionsIsFine) {
  auto x = mip_scan_extensions(build_request(test_request()));
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->count, 0);
  EXPECT_FALSE(x->mn_ha.present);
}

/* Every unknown non-skippable type stops the walk: RFC 5944 1.8 silent discard. */
TEST(MipMsg, UnknownNonSkippableDiscards) {
  for (int t = 0; t < 128; ++t) {
    if (t == 32 || t == 33 || t == 34 || t == 44) continue;
    const Bytes m = request_with(hex({131, 1, 'x', t, 2, 0, 0, 32, 4, 0, 0, 1, 0}));
    MipExtWalker w(m, kMipRequestLen);
    MipExt e;
    ASSERT_TRUE(w.next(&e));  /* the NAI */
    EXPECT_FALSE(w.next(&e));
    EXPECT_EQ(w.error(), MipError::kUnknownNonSkippable) << t;
    EXPECT_EQ(e.type, t);
    EXPECT_EQ(e.offset, 27u);
    auto x = mip_scan_extensions(m);
    EXPECT_EQ(x.error(), MipError::kUnknownNonSkippable) << t;
    EXPECT_EQ(mip_error_action(x.error()), MipAction::kDiscard);
    /* Also when it is the last byte (no length to read). */
    EXPECT_EQ(mip_scan_extensions(request_with(hex({t}))).error(), MipError::kUnknownNonSkippable);
  }
}

/* Every unknown skippable type is stepped over, whatever its content. */
TEST(MipMsg, UnknownSkippableSkipped) {
  for (int t = 128; t < 256; ++t) {
    if (t == 131 || t == 137 || t == 144 || t == 149) continue;
    const Bytes m = request_with(hex({t, 3, 32, 0, 0, 131, 1, 'x'}));
    auto x = mip_scan_extensions(m);
    ASSERT_TRUE(x.ok()) << t << " " << to_string(x.error());
    EXPECT_EQ(x->skipped, 1) << t;
    EXPECT_TRUE(x->has_nai);
    EXPECT_FALSE(x->mn_ha.present);  /* the 32 inside it was data, not an extension */
  }
}

struct BadCase {
  const char* name;
  Bytes exts;
  MipError want;
};

/* Malformed extension areas after a valid request fixed part. */
TEST(MipMsg, BadExtensionsTable) {
  const BadCase cases[] = {
      {"type byte only (skippable)", hex({131}), MipError::kExtTruncated},
      {"length past the end", hex({131, 5, 'a', 'b'}), MipError::kExtTruncated},
      {"length one past the end", hex({200, 2, 0}), MipError::kExtTruncated},
      {"auth length past the end", hex({32, 20, 0, 0, 1, 0, 1, 2, 3}), MipError::kExtTruncated},
      {"second ext truncated", hex({131, 1, 'a', 144, 6, 0, 0, 0}), MipError::kExtTruncated},
      {"auth shorter than SPI", hex({32, 3, 0, 0, 1}), MipError::kBadExtLength},
      {"MN-FA shorter than SPI", hex({33, 0}), MipError::kBadExtLength},
      {"FA-HA shorter than SPI", hex({34, 2, 0, 0}), MipError::kBadExtLength},
      {"UDP tunnel request length 5", hex({144, 5, 0, 0, 0, 4, 0}), MipError::kBadExtLength},
      {"UDP tunnel request length 7", hex({144, 7, 0, 0, 0, 4, 0, 0, 0}), MipError::kBadExtLength},
      {"UDP tunnel reply length 4", hex({44, 4, 0, 0, 0, 0}), MipError::kBadExtLength},
      {"revocation support length 2", hex({137, 2, 0x80, 0}), MipError::kBadExtLength},
      {"empty NAI", hex({131, 0}), MipError::kBadExtLength},
      {"two MN-HA auth", hex({32, 4, 0, 0, 1, 0, 32, 4, 0, 0, 1, 0}), MipError::kDuplicateExt},
      {"two NAI", hex({131, 1, 'a', 131, 1, 'b'}), MipError::kDuplicateExt},
      {"two UDP tunnel requests",
       hex({144, 6, 0, 0, 0, 4, 0, 0, 144, 6, 0, 0, 0, 4, 0, 0}), MipError::kDuplicateExt},
      {"unknown 0", hex({0, 0}), MipError::kUnknownNonSkippable},
      {"unknown 127", hex({127, 0}), MipError::kUnknownNonSkippable},
      {"long format 36 (RFC 3012)", hex({36, 1, 0, 20}), MipError::kUnknownNonSkippable},
  };
  for (const auto& c : cases) {
    auto x = mip_scan_extensions(request_with(c.exts));
    EXPECT_EQ(x.error(), c.want) << c.name << ": got " << to_string(x.error());
    /* The same extensions after a reply's fixed part fail the same way. */
    EXPECT_EQ(mip_scan_extensions(reply_with(c.exts)).error(), c.want) << c.name;
  }
  /* A home agent answers a message cut inside an extension with 134. */
  EXPECT_EQ(mip_error_action(MipError::kExtTruncated), MipAction::kReply);
  EXPECT_EQ(mip_error_reply_code(MipError::kExtTruncated), MipReplyCode::kHaPoorlyFormedRequest);
  EXPECT_EQ(mip_error_reply_code(MipError::kBadExtLength), MipReplyCode::kHaPoorlyFormedRequest);
  EXPECT_EQ(mip_error_reply_code(MipError::kAuthFailed), MipReplyCode::kHaMnFailedAuth);
}

/* Cutting a valid message anywhere inside its extensions is kExtTruncated. */
TEST(MipMsg, EveryCutInsideExtensionsIsTruncated) {
  for (size_t n = kMipRequestLen + 1; n < kScapyRequest.size(); ++n) {
    const cbytes cut = cbytes(kScapyRequest).first(n);
    /* Cuts that fall exactly between two extensions are a shorter valid message. */
    if (n == 41 || n == 49) {
      EXPECT_TRUE(mip_scan_extensions(cut).ok()) << n;
      continue;
    }
    EXPECT_EQ(mip_scan_extensions(cut).error(), MipError::kExtTruncated) << n;
  }
}

/* ---------------- each extension ---------------- */

TEST(MipMsg, UdpTunnelRequestAllFields) {
  for (int flags = 0; flags < 256; flags += 0x15) {
    const MipUdpTunnelReq q{.sub_type = static_cast<uint8_t>(flags ^ 1),
                            .reserved1 = static_cast<uint8_t>(flags),
                            .f = (flags & 0x80) != 0,
                            .r = (flags & 0x40) != 0,
                            .reserved2 = static_cast<uint8_t>(flags & 0x3f),
                            .encap = static_cast<uint8_t>(flags ? 47 : 55),
                            .reserved3 = static_cast<uint16_t>(flags * 251)};
    std::array<std::byte, 64> buf{};
    MipMsgBuilder b(buf);
    b.request(test_request());
    ASSERT_EQ(b.add_udp_tunnel_request(q), MipError::kOk);
    EXPECT_EQ(to_vec(b.msg().subspan(24)),
              hex({144, 6, q.sub_type, q.reserved1, flags, q.encap, q.reserved3 >> 8,
                   q.reserved3 & 0xff}));
    auto x = mip_scan_extensions(b.msg());
    ASSERT_TRUE(x.ok());
    ASSERT_TRUE(x->has_udp_tun_req);
    EXPECT_EQ(x->udp_tun_req, q);
  }
}

TEST(MipMsg, UdpTunnelReplyAllFields) {
  const MipUdpTunnelRep reps[] = {
      {.sub_type = 0, .code = 0, .f = false, .reserved = 0, .keepalive = 110},
      {.sub_type = 3, .code = 64, .f = true, .reserved = 0x7fff, .keepalive = 0xffff},
  };
  for (const auto& q : reps) {
    std::array<std::byte, 64> buf{};
    MipMsgBuilder b(buf);
    b.reply(MipReply{});
    ASSERT_EQ(b.add_udp_tunnel_reply(q), MipError::kOk);
    const uint16_t fl = static_cast<uint16_t>((q.f ? 0x8000 : 0) | q.reserved);
    EXPECT_EQ(to_vec(b.msg().subspan(20)), hex({44, 6, q.sub_type, q.code, fl >> 8, fl & 0xff,
                                                q.keepalive >> 8, q.keepalive & 0xff}));
    auto x = mip_scan_extensions(b.msg());
    ASSERT_TRUE(x.ok());
    ASSERT_TRUE(x->has_udp_tun_rep);
    EXPECT_EQ(x->udp_tun_rep, q);
  }
}

TEST(MipMsg, RevocationSupport) {
  const MipRevSupport q{.i = true, .reserved = 0x1234, .timestamp = 0xdeadbeef};
  std::array<std::byte, 64> buf{};
  MipMsgBuilder b(buf);
  b.request(test_request());
  ASSERT_EQ(b.add_revocation_support(q), MipError::kOk);
  EXPECT_EQ(to_vec(b.msg().subspan(24)), hex({137, 6, 0x92, 0x34, 0xde, 0xad, 0xbe, 0xef}));
  auto x = mip_scan_extensions(b.msg());
  ASSERT_TRUE(x.ok());
  ASSERT_TRUE(x->has_rev_support);
  EXPECT_EQ(x->rev_support, q);
}

TEST(MipMsg, NaiAndAuthExtensions) {
  std::array<std::byte, 128> buf{};
  MipMsgBuilder b(buf);
  b.request(test_request());
  ASSERT_EQ(b.add_nai("user@realm"), MipError::kOk);
  ASSERT_EQ(b.add_auth(kMipExtMnHaAuth, 0x11223344, unhex("00112233445566778899aabbccddeeff")),
            MipError::kOk);
  ASSERT_EQ(b.add_auth(kMipExtMnFaAuth, 0x00000101, unhex("0102")), MipError::kOk);
  ASSERT_EQ(b.add_auth(kMipExtFaHaAuth, 0xfffffffe, {}), MipError::kOk);
  EXPECT_EQ(to_vec(b.msg().subspan(24, 12)), cat(hex({131, 10}), str("user@realm")));
  EXPECT_EQ(to_vec(b.msg().subspan(36, 6)), hex({32, 20, 0x11, 0x22, 0x33, 0x44}));
  auto x = mip_scan_extensions(b.msg());
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(to_vec(x->nai), str("user@realm"));
  EXPECT_EQ(x->mn_ha.spi, 0x11223344u);
  EXPECT_EQ(to_vec(x->mn_ha.authenticator), unhex("00112233445566778899aabbccddeeff"));
  ASSERT_TRUE(x->mn_fa.present);
  EXPECT_EQ(x->mn_fa.spi, 0x101u);
  EXPECT_EQ(to_vec(x->mn_fa.authenticator), unhex("0102"));
  EXPECT_EQ(x->mn_fa.offset, 36u + 22u);
  ASSERT_TRUE(x->fa_ha.present);
  EXPECT_EQ(x->fa_ha.spi, 0xfffffffeu);
  EXPECT_TRUE(x->fa_ha.authenticator.empty());
}

/* RFC 5265 3.4: type 149, length 2, sub-type 0, reserved ignored. */
TEST(MipMsg, TncOnlySubTypeZero) {
  struct {
    Bytes ext;
    bool tnc;
  } cases[] = {
      {hex({149, 2, 0, 0}), true},
      {hex({149, 2, 0, 0xff}), true},   /* reserved ignored on receipt */
      {hex({149, 2, 1, 0}), false},     /* another sub-type is not TNC */
      {hex({149, 2, 255, 0}), false},
      {hex({149, 3, 0, 0, 0}), false},  /* not the TNC length */
      {hex({149, 1, 0}), false},
      {hex({149, 0}), false},
  };
  for (const auto& c : cases) {
    auto x = mip_scan_extensions(reply_with(c.ext));
    ASSERT_TRUE(x.ok());
    EXPECT_EQ(x->tnc, c.tnc);
    EXPECT_EQ(x->skipped, c.tnc ? 0 : 1);
  }
  /* Built: reserved sent as 0. */
  std::array<std::byte, 32> buf{};
  MipMsgBuilder b(buf);
  b.reply(MipReply{});
  ASSERT_EQ(b.add_tnc(), MipError::kOk);
  EXPECT_EQ(to_vec(b.msg().subspan(20)), hex({149, 2, 0, 0}));
}

TEST(MipMsg, TncBeforeOrAfterAuth) {
  const Bytes auth = hex({32, 20, 0, 0, 0x10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  const Bytes tnc = hex({149, 2, 0, 0});
  auto before = mip_scan_extensions(reply_with(cat(tnc, auth)));
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->tnc && before->tnc_before_auth);
  auto after = mip_scan_extensions(reply_with(cat(auth, tnc)));
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->tnc);
  EXPECT_FALSE(after->tnc_before_auth);
  auto none = mip_scan_extensions(reply_with(tnc));  /* no authenticator at all */
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->tnc_before_auth);
  /* A non-TNC 149 before the auth and a TNC after it: still not covered. */
  auto mixed = mip_scan_extensions(reply_with(cat(hex({149, 2, 1, 0}), cat(auth, tnc))));
  ASSERT_TRUE(mixed.ok());
  EXPECT_TRUE(mixed->tnc);
  EXPECT_FALSE(mixed->tnc_before_auth);
  EXPECT_TRUE(mip_covered_by_mn_ha(*before, 24));
  EXPECT_FALSE(mip_covered_by_mn_ha(*before, 25));
}

/* ---------------- builder errors ---------------- */

TEST(MipMsg, BuilderErrorsStick) {
  std::array<std::byte, 30> buf{};
  {
    MipMsgBuilder b(buf);
    EXPECT_EQ(b.add_tnc(), MipError::kNoFixedPart);
    EXPECT_EQ(b.request(test_request()), MipError::kNoFixedPart);  /* sticky */
  }
  {
    MipMsgBuilder b(bytes(buf).first(10));
    EXPECT_EQ(b.request(test_request()), MipError::kNoRoom);
    EXPECT_EQ(b.size(), 0u);
  }
  {
    MipMsgBuilder b(buf);
    ASSERT_EQ(b.request(test_request()), MipError::kOk);
    EXPECT_EQ(b.add_tnc(), MipError::kOk);  /* 28 */
    EXPECT_EQ(b.add_tnc(), MipError::kNoRoom);
    EXPECT_EQ(b.size(), 28u);
    EXPECT_EQ(b.add_nai("a"), MipError::kNoRoom);
    EXPECT_EQ(b.error(), MipError::kNoRoom);
  }
  {
    std::array<std::byte, 600> big{};
    MipMsgBuilder b(big);
    b.request(test_request());
    const Bytes d(256);
    EXPECT_EQ(b.add_raw(200, d), MipError::kBadExtLength);  /* Length is one byte */
  }
  {
    MipMsgBuilder b(buf);
    b.request(test_request());
    EXPECT_EQ(b.add_nai(""), MipError::kBadExtLength);
  }
}

/* ---------------- reply codes ---------------- */

TEST(MipCodes, NumbersAndNames) {
  static_assert(static_cast<int>(MipReplyCode::kHaUnspecified) == 128);
  static_assert(static_cast<int>(MipReplyCode::kHaAdminProhibited) == 129);
  static_assert(static_cast<int>(MipReplyCode::kHaInsufficientResources) == 130);
  static_assert(static_cast<int>(MipReplyCode::kHaMnFailedAuth) == 131);
  static_assert(static_cast<int>(MipReplyCode::kHaFaFailedAuth) == 132);
  static_assert(static_cast<int>(MipReplyCode::kHaIdMismatch) == 133);
  static_assert(static_cast<int>(MipReplyCode::kHaPoorlyFormedRequest) == 134);
  static_assert(static_cast<int>(MipReplyCode::kHaTooManyBindings) == 135);
  static_assert(static_cast<int>(MipReplyCode::kHaUnknownHaAddress) == 136);
  static_assert(static_cast<int>(MipReplyCode::kHaReverseTunnelUnavailable) == 137);
  static_assert(static_cast<int>(MipReplyCode::kHaReverseTunnelMandatory) == 138);
  static_assert(static_cast<int>(MipReplyCode::kHaEncapUnavailable) == 139);
  static_assert(static_cast<int>(MipReplyCode::kHaUdpEncapUnavailable) == 142);
  static_assert(static_cast<int>(MipReplyCode::kFaReverseTunnelUnavailable) == 74);
  static_assert(static_cast<int>(MipReplyCode::kFaReverseTunnelMandatory) == 75);
  static_assert(static_cast<int>(MipReplyCode::kFaMnTooDistant) == 76);
  static_assert(static_cast<int>(MipReplyCode::kFaDeliveryStyleUnsupported) == 79);
  int named = 0;
  for (int c = 0; c < 256; ++c) {
    const auto s = to_string(static_cast<MipReplyCode>(c));
    if (s != "unknown") ++named;
  }
  EXPECT_EQ(named, 2 + 20 + 13);
  EXPECT_EQ(to_string(MipReplyCode::kHaPoorlyFormedRequest), "ha_poorly_formed_request");
  EXPECT_TRUE(mip_code_accepted(0) && mip_code_accepted(1) && !mip_code_accepted(2));
  EXPECT_TRUE(mip_code_from_ha(133) && !mip_code_from_ha(64) && mip_code_from_fa(64));
  for (int e = 0; e < static_cast<int>(MipError::kCount); ++e)
    EXPECT_NE(to_string(static_cast<MipError>(e)), "unknown") << e;
}
