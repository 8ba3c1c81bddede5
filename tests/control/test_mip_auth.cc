/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HMAC-MD5 through IPsec-MB (RFC 2104, known answers from RFC 2202
 * section 2) and the Mobile-Home authenticator of RFC 5944 3.5.1: over
 * exactly the bytes up to and including the SPI, constant-time verify,
 * and which extensions it covers (RFC 5265 TNC).
 */
#include <gtest/gtest.h>

#include <array>

#include "mip/auth.h"
#include "mip/msg.h"
#include "mip_test_util.h"

using namespace mipvpn;
using namespace mipvpn::test;

namespace {

Bytes mac_of(MipHmacMd5& h, const Bytes& key, const Bytes& data) {
  std::array<std::byte, 16> out{};
  EXPECT_EQ(h.mac(key, data, out), MipError::kOk);
  return Bytes(out.begin(), out.end());
}

struct Kat {
  int tc;
  Bytes key;
  Bytes data;
  const char* digest;
};

}  // namespace

/* RFC 2202 section 2, test cases 1 to 5 (1 to 3 are RFC 2104's appendix too). */
TEST(MipHmacMd5, Rfc2202KnownAnswers) {
  Bytes k4;
  for (int i = 1; i <= 25; ++i) k4.push_back(std::byte(i));
  const Kat kats[] = {
      {1, Bytes(16, std::byte{0x0b}), str("Hi There"), "9294727a3638bb1c13f48ef8158bfc9d"},
      {2, str("Jefe"), str("what do ya want for nothing?"), "750c783e6ab0b503eaa86e310a5db738"},
      {3, Bytes(16, std::byte{0xaa}), Bytes(50, std::byte{0xdd}), "56be34521d144c88dbb8c733f0e8b3f6"},
      {4, k4, Bytes(50, std::byte{0xcd}), "697eaf0aca3a3aea3a75164746ffaa79"},
      {5, Bytes(16, std::byte{0x0c}), str("Test With Truncation"), "56461ef2342edc00f9bab995690efd4c"},
  };
  MipHmacMd5 h;
  ASSERT_EQ(h.init_error(), MipError::kOk);
  for (const auto& k : kats) EXPECT_EQ(mac_of(h, k.key, k.data), unhex(k.digest)) << "case " << k.tc;
  /* Case 5 also gives the 96-bit truncation: its first 12 bytes. */
  const Bytes full = mac_of(h, kats[4].key, kats[4].data);
  EXPECT_EQ(Bytes(full.begin(), full.begin() + 12), unhex("56461ef2342edc00f9bab995"));
}

/*
 * RFC 2202 cases 6 and 7 use an 80-byte key, which RFC 2104 hashes first.
 * IPsec-MB 1.3 has no plain MD5, so such a key is refused; given the
 * hashed key (MD5 of 80 x 0xaa, computed with Python's hashlib) the same
 * code yields the RFC's digests, which shows the HMAC half is right and
 * tells an operator what to configure instead.
 */
TEST(MipHmacMd5, Rfc2202LongKeys) {
  MipHmacMd5 h;
  const Bytes long_key(80, std::byte{0xaa});
  std::array<std::byte, 16> out{};
  EXPECT_EQ(h.mac(long_key, str("x"), out), MipError::kKeyTooLong);
  MipHmacMd5::Key k;
  EXPECT_EQ(h.make_key(long_key, &k), MipError::kKeyTooLong);
  const Bytes hashed = unhex("8fb6ab01840023ec453ecdec73dc1b66");
  EXPECT_EQ(mac_of(h, hashed, str("Test Using Larger Than Block-Size Key - Hash Key First")),
            unhex("6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"));  /* case 6 */
  EXPECT_EQ(mac_of(h, hashed,
                   str("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data")),
            unhex("6f630fad67cda0ee1fb1f562db3aa53e"));  /* case 7 */
  MipSa sa = test_sa();
  EXPECT_EQ(sa.set_key(long_key), MipError::kKeyTooLong);
  EXPECT_EQ(sa.key_len, 16);  /* unchanged */
}

TEST(MipHmacMd5, EdgeKeysAndData) {
  MipHmacMd5 h;
  Bytes k64;
  for (int i = 0; i < 64; ++i) k64.push_back(std::byte(i));
  /* Python: hmac.new(bytes(range(64)), b'sixty-four byte key', hashlib.md5) */
  EXPECT_EQ(mac_of(h, k64, str("sixty-four byte key")), unhex("73a7199d977f8ec628d639bf84a92c19"));
  std::array<std::byte, 16> out{};
  /* IPsec-MB takes no empty HMAC job; no registration message is empty. */
  EXPECT_EQ(h.mac(str("k"), Bytes{}, out), MipError::kTruncated);
  EXPECT_EQ(h.mac(Bytes{}, str("x"), out), MipError::kKeyEmpty);
  /* Precomputed key reused across messages. */
  MipHmacMd5::Key k;
  ASSERT_EQ(h.make_key(str("Jefe"), &k), MipError::kOk);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(h.mac(k, str("what do ya want for nothing?"), out), MipError::kOk);
    EXPECT_EQ(Bytes(out.begin(), out.end()), unhex("750c783e6ab0b503eaa86e310a5db738"));
  }
}

TEST(MipAuth, SecurityAssociationChecks) {
  MipSa sa = test_sa();
  EXPECT_EQ(mip_sa_check(sa), MipError::kOk);
  EXPECT_FALSE(mip_sa_key_weak(sa));
  EXPECT_EQ(sa.tolerance_s, 7u);
  EXPECT_EQ(sa.replay, MipReplayMethod::kTimestamps);
  sa.spi = 255;
  EXPECT_EQ(mip_sa_check(sa), MipError::kBadSpi);
  sa.spi = 256;
  EXPECT_EQ(mip_sa_check(sa), MipError::kOk);
  MipSa empty;
  empty.spi = 1000;
  EXPECT_EQ(mip_sa_check(empty), MipError::kKeyEmpty);
  EXPECT_EQ(empty.set_key({}), MipError::kKeyEmpty);
  ASSERT_EQ(empty.set_key(str("short")), MipError::kOk);
  EXPECT_TRUE(mip_sa_key_weak(empty));
  EXPECT_EQ(mip_sa_check(empty), MipError::kOk);
  empty.alg = static_cast<MipAuthAlg>(9);
  EXPECT_EQ(mip_sa_check(empty), MipError::kBadAlgorithm);
}

TEST(MipAuth, ConstantTimeEqual) {
  EXPECT_TRUE(mip_ct_equal(str("abc"), str("abc")));
  EXPECT_FALSE(mip_ct_equal(str("abc"), str("abd")));
  EXPECT_FALSE(mip_ct_equal(str("abc"), str("ab")));
  EXPECT_TRUE(mip_ct_equal({}, {}));
}

namespace {

/* A request with NAI and UDP tunnel request, signed with sa. */
Bytes signed_request(const MipSa& sa, uint32_t* auth_off = nullptr) {
  std::array<std::byte, 256> buf{};
  MipMsgBuilder b(buf);
  b.request(test_request());
  b.add_nai("mn1@example.com");
  b.add_udp_tunnel_request({});
  MipHmacMd5 h;
  EXPECT_EQ(mip_add_auth(b, h, sa), MipError::kOk);
  if (auth_off) *auth_off = b.last_ext_offset();
  return to_vec(b.msg());
}

MipError verify(const Bytes& m, const MipSa& sa) {
  auto x = mip_scan_extensions(m);
  if (!x) return x.error();
  MipHmacMd5 h;
  return mip_verify_mn_ha(h, sa, m, *x);
}

}  // namespace

/* RFC 5944 3.5.1: exactly bytes [0, SPI end) are covered. */
TEST(MipAuth, AuthenticatorOverExactlyTheRightBytes) {
  const MipSa sa = test_sa();
  uint32_t off = 0;
  const Bytes m = signed_request(sa, &off);
  ASSERT_EQ(off, 49u);  /* 24 fixed + 17 NAI + 8 UDP tunnel request */
  ASSERT_EQ(m.size(), off + 2 + 4 + 16);
  ASSERT_EQ(verify(m, sa), MipError::kOk);
  /* Independent: the authenticator is HMAC-MD5(key, m[0 .. off+6)). */
  MipHmacMd5 h;
  EXPECT_EQ(mac_of(h, to_vec(sa.key_bytes()), Bytes(m.begin(), m.begin() + off + 6)),
            Bytes(m.begin() + off + 6, m.end()));
  /* Any bit flipped anywhere fails. Where the message still parses the
   * same way (fixed part after the type, extension data, authenticator)
   * it is the MAC that fails; SPI changes are refused before the MAC;
   * flips in a type or length byte change the parse itself. */
  auto in = [](size_t i, size_t lo, size_t hi) { return i >= lo && i < hi; };
  for (size_t i = 0; i < m.size(); ++i) {
    Bytes bad = m;
    bad[i] ^= std::byte{0x01};
    const MipError e = verify(bad, sa);
    EXPECT_NE(e, MipError::kOk) << i;
    if (in(i, 1, 24) || in(i, 26, 41) || in(i, 43, 49) || in(i, off + 6, m.size())) {
      EXPECT_EQ(e, MipError::kAuthFailed) << i;
    }
    if (in(i, off + 2, off + 6)) {
      EXPECT_EQ(e, MipError::kAuthSpiMismatch) << i;
    }
  }
  /* Bytes appended after the authenticator are not covered. */
  Bytes more = cat(m, hex({200, 2, 1, 2}));
  EXPECT_EQ(verify(more, sa), MipError::kOk);
}

TEST(MipAuth, WrongKeyOrSpiFails) {
  const MipSa sa = test_sa();
  const Bytes m = signed_request(sa);
  MipSa other = sa;
  other.key[0] ^= std::byte{0x80};
  EXPECT_EQ(verify(m, other), MipError::kAuthFailed);
  MipSa longer = sa;
  longer.key[16] = std::byte{17};
  longer.key_len = 17;  /* the key with one more byte */
  EXPECT_EQ(verify(m, longer), MipError::kAuthFailed);
  MipSa spi = sa;
  spi.spi = 0x1001;
  EXPECT_EQ(verify(m, spi), MipError::kAuthSpiMismatch);
  MipSa bad = sa;
  bad.spi = 7;
  EXPECT_EQ(verify(m, bad), MipError::kBadSpi);
}

TEST(MipAuth, MissingOrShortAuthenticator) {
  const MipSa sa = test_sa();
  std::array<std::byte, 128> buf{};
  MipMsgBuilder b(buf);
  b.request(test_request());
  b.add_nai("x@y");
  EXPECT_EQ(verify(to_vec(b.msg()), sa), MipError::kAuthMissing);
  b.add_auth(kMipExtMnHaAuth, sa.spi, unhex("0011223344556677"));  /* 8 bytes */
  EXPECT_EQ(verify(to_vec(b.msg()), sa), MipError::kAuthBadLength);
  EXPECT_EQ(mip_error_reply_code(MipError::kAuthMissing), MipReplyCode::kHaMnFailedAuth);
}

TEST(MipAuth, MnFaAndFaHaUseTheSameRule) {
  MipSa fa = test_sa();
  fa.spi = 0x2000;
  fa.set_key(str("foreign agent key"));
  const MipSa mn = test_sa();
  std::array<std::byte, 256> buf{};
  MipMsgBuilder b(buf);
  b.request(test_request());
  MipHmacMd5 h;
  ASSERT_EQ(mip_add_auth(b, h, mn), MipError::kOk);
  ASSERT_EQ(mip_add_auth(b, h, fa, kMipExtMnFaAuth), MipError::kOk);
  ASSERT_EQ(mip_add_auth(b, h, fa, kMipExtFaHaAuth), MipError::kOk);
  auto x = mip_scan_extensions(b.msg());
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(mip_verify_auth(h, mn, b.msg(), x->mn_ha), MipError::kOk);
  EXPECT_EQ(mip_verify_auth(h, fa, b.msg(), x->mn_fa), MipError::kOk);
  EXPECT_EQ(mip_verify_auth(h, fa, b.msg(), x->fa_ha), MipError::kOk);
  EXPECT_EQ(mip_verify_auth(h, mn, b.msg(), x->fa_ha), MipError::kAuthSpiMismatch);
  /* The FA-HA authenticator covers the MN-FA one, which covers the MN-HA one. */
  EXPECT_EQ(x->mn_fa.covered_len(), 24u + 22u + 6u);
  EXPECT_EQ(x->fa_ha.covered_len(), 24u + 44u + 6u);
}

/* RFC 5265 TNC counts only when the MN-HA authenticator covers it and verifies. */
TEST(MipAuth, AuthenticatedTnc) {
  const MipSa sa = test_sa();
  MipHmacMd5 h;
  const MipReply rp{.code = 1, .lifetime = 60, .home_addr = Ipv4Addr(10, 1, 0, 5),
                    .home_agent = Ipv4Addr(10, 1, 0, 1), .id = 42};
  auto build = [&](bool tnc_before, bool tnc_after, uint8_t sub_type) {
    std::array<std::byte, 128> buf{};
    MipMsgBuilder b(buf);
    b.reply(rp);
    if (tnc_before) b.add_tnc(sub_type);
    EXPECT_EQ(mip_add_auth(b, h, sa), MipError::kOk);
    if (tnc_after) b.add_tnc(sub_type);
    return to_vec(b.msg());
  };
  auto tnc = [&](const Bytes& m, const MipSa& s) {
    auto x = mip_scan_extensions(m);
    EXPECT_TRUE(x.ok());
    return mip_authenticated_tnc(h, s, m, *x);
  };
  EXPECT_TRUE(tnc(build(true, false, 0), sa));
  EXPECT_FALSE(tnc(build(false, true, 0), sa));  /* appended after: anyone's bytes */
  EXPECT_FALSE(tnc(build(true, false, 1), sa));  /* sub-type 1 is not TNC */
  EXPECT_FALSE(tnc(build(false, false, 0), sa));
  MipSa wrong = sa;
  wrong.key[3] ^= std::byte{1};
  EXPECT_FALSE(tnc(build(true, false, 0), wrong));  /* covered but does not verify */
  /* Reserved byte set by the sender: ignored, and (covered) still verifies. */
  std::array<std::byte, 128> buf{};
  MipMsgBuilder b(buf);
  b.reply(rp);
  b.add_raw(kMipExtTnc, hex({0, 0x5a}));
  mip_add_auth(b, h, sa);
  EXPECT_TRUE(tnc(to_vec(b.msg()), sa));
}
