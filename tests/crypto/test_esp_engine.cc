/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP engine: outbound -> inbound across all suites, sizes, NAT-T, ESN and
 * burst sizes; every drop reason the engine can give; counters; the wire
 * format (RFC 4303 header/trailer, RFC 4301 5.1.2.1 outer header, RFC 3948
 * UDP, RFC 4106 GCM layout checked with raw IPsec-MB).
 */
#include <intel-ipsec-mb.h>

#include <algorithm>
#include <set>
#include <thread>

#include "codec/esp.h"
#include "codec/udp.h"
#include "crypto/esp_sa.h"
#include "esp_test_util.h"

namespace mipvpn {
namespace {

using test::inb;
using test::make_inner;
using test::make_pair;
using test::outb;
using test::PairOpts;
using test::TestPkt;

EspDrop drop_of(const PktView* p) { return static_cast<EspDrop>(p->drop); }

const EspSuite* suite(std::string_view n) {
  const EspSuite* s = esp_suite_by_name(n);
  EXPECT_NE(s, nullptr) << n;
  return s;
}

TEST(EspSuites, TableHasTheEightNamedSuites) {
  const char* names[] = {"aes-128-gcm", "aes-256-gcm", "aes-128-cbc-sha1", "aes-256-cbc-sha1",
                         "aes-128-cbc-sha256", "aes-256-cbc-sha256", "null-sha1", "null-sha256"};
  EXPECT_EQ(esp_suites().size(), 8u);
  for (const char* n : names) {
    const EspSuite* s = esp_suite_by_name(n);
    ASSERT_NE(s, nullptr) << n;
    EXPECT_EQ(s->name, n);
  }
  EXPECT_EQ(esp_suite_by_name("aes-128-ccm"), nullptr);
  EXPECT_EQ(suite("aes-128-gcm")->icv_len, 16);
  EXPECT_EQ(suite("aes-128-cbc-sha1")->icv_len, 12);
  EXPECT_EQ(suite("aes-256-cbc-sha256")->auth_key_len, 32);
  EXPECT_EQ(to_string(EspDrop::kAuthFailed), "auth_failed");
}

/* Several workers send on one outbound SA at once (each with its own
 * engine): every sequence number is used exactly once, none skipped
 * (RFC 4303 3.3.3), and the SA's counters add up. */
TEST(EspEngine, OutboundSequenceNumbersUniqueAcrossWorkers) {
  constexpr int kWorkers = 4, kBursts = 200, kBurst = 32;
  PairOpts o;
  auto sa = make_pair(suite("aes-128-cbc-sha1"), o);
  std::vector<std::vector<uint32_t>> seen(kWorkers);
  std::vector<std::thread> th;
  for (int w = 0; w < kWorkers; ++w) {
    th.emplace_back([&, w] {
      auto eng = test::engine();
      ASSERT_TRUE(eng);
      for (int b = 0; b < kBursts; ++b) {
        std::vector<TestPkt> pk;
        for (int i = 0; i < kBurst; ++i) pk.emplace_back(make_inner(64, static_cast<uint32_t>(b * kBurst + i)));
        ASSERT_EQ(outb(*eng, *sa.out, pk), kBurst);
        for (const TestPkt& p : pk)
          seen[static_cast<size_t>(w)].push_back(
              load_be32(reinterpret_cast<const std::byte*>(p.bytes().data() + 20 + 4)));
      }
    });
  }
  for (auto& t : th) t.join();
  std::vector<uint32_t> all;
  for (const auto& v : seen) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  /* in order within a worker */
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  const uint64_t total = uint64_t{kWorkers} * kBursts * kBurst;
  ASSERT_EQ(all.size(), total);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], o.seq_start + i) << "at " << i;
  EXPECT_EQ(sa.out->next_seq(), o.seq_start + total);
  EXPECT_EQ(sa.out->stats().packets, total);
}

TEST(EspEngine, ReportsArch) {
  auto e = test::engine();
  ASSERT_TRUE(e);
  EXPECT_NE(e->arch(), "none");
  EXPECT_NE(e->mgr(), nullptr);
}

/* ---- configuration ---- */

TEST(EspSaConfig, RefusesBadConfigsWithASentence) {
  const EspSuite* gcm = suite("aes-128-gcm");
  const EspSuite* cbc = suite("aes-128-cbc-sha1");
  std::vector<uint8_t> k20(20, 1), k16(16, 1), k32(32, 1), none;
  auto cfg = [&](const EspSuite* s, std::vector<uint8_t>& ck, std::vector<uint8_t>& ak) {
    return test::base_cfg(s, EspDir::kOutbound, PairOpts{}, ck, ak);
  };
  struct Case {
    EspSaConfig c;
    const char* word;
  };
  std::vector<Case> cases;
  { auto c = cfg(gcm, k20, none); c.suite = nullptr; cases.push_back({c, "suite"}); }
  { auto c = cfg(gcm, k20, none); c.spi = 255; cases.push_back({c, "reserved"}); }
  { auto c = cfg(gcm, k16, none); cases.push_back({c, "salt"}); }
  { auto c = cfg(gcm, k20, k20); cases.push_back({c, "integrity key"}); }
  { auto c = cfg(cbc, k20, k20); cases.push_back({c, "16-byte AES key"}); }
  { auto c = cfg(cbc, k16, k16); cases.push_back({c, "20-byte integrity key"}); }
  { auto c = cfg(suite("null-sha1"), k16, k20); cases.push_back({c, "NULL"}); }
  { auto c = cfg(gcm, k20, none); c.dir = EspDir::kInbound; c.replay_window = 32; cases.push_back({c, "window"}); }
  { auto c = cfg(gcm, k20, none); c.dir = EspDir::kInbound; c.replay_window = 8192; cases.push_back({c, "window"}); }
  { auto c = cfg(gcm, k20, none); c.tun_dst = Ipv4Addr(); cases.push_back({c, "tunnel"}); }
  { auto c = cfg(gcm, k20, none); c.natt_sport = 4500; cases.push_back({c, "ports"}); }
  { auto c = cfg(gcm, k20, none); c.seq_start = 0; cases.push_back({c, "3.3.3"}); }
  { auto c = cfg(gcm, k20, none); c.seq_start = 1ull << 32; cases.push_back({c, "ESN"}); }
  { auto c = cfg(gcm, k20, none); c.ttl = 0; cases.push_back({c, "TTL"}); }
  for (auto& tc : cases) {
    std::string err;
    EXPECT_EQ(EspSa::create(tc.c, &err), nullptr) << tc.word;
    EXPECT_NE(err.find(tc.word), std::string::npos) << err;
  }
  /* and the good ones pass */
  std::string err;
  for (uint32_t w : {0u, 64u, 4096u}) {
    auto c = cfg(gcm, k20, none);
    c.dir = EspDir::kInbound;
    c.replay_window = w;
    EXPECT_NE(EspSa::create(c, &err), nullptr) << err;
  }
  auto c = cfg(cbc, k16, k20);
  auto sa = EspSa::create(c, &err);
  ASSERT_NE(sa, nullptr) << err;
  EXPECT_EQ(sa->spi(), 0x1001u);
  EXPECT_EQ(sa->dir(), EspDir::kOutbound);
  EXPECT_EQ(&sa->suite(), cbc);
  EXPECT_EQ(sa->next_seq(), 1u);
  EXPECT_EQ(sa->max_overhead(), 20u + 8 + 16 + 15 + 2 + 12);
}

/* ---- round trips ---- */

struct RtParam {
  const char* suite;
  bool natt;
  bool esn;
};

class EspRoundTrip : public ::testing::TestWithParam<RtParam> {};

TEST_P(EspRoundTrip, Sizes20To1500InBursts) {
  const RtParam prm = GetParam();
  const EspSuite* s = suite(prm.suite);
  auto eng = test::engine();
  PairOpts o;
  o.natt = prm.natt;
  o.esn = prm.esn;
  o.seq_start = prm.esn ? (uint64_t{1} << 32) - 700 : 1;  /* crosses 2^32 on the way */
  auto sa = make_pair(s, o);
  const uint16_t bursts[] = {1, 7, 32, 256};
  uint32_t len = 20, bi = 0;
  uint64_t sent = 0, sent_bytes = 0;
  while (len <= 1500) {
    const uint16_t nb = bursts[bi++ % 4];
    std::vector<std::vector<uint8_t>> inner;
    std::vector<TestPkt> pk;
    for (uint16_t i = 0; i < nb && len <= 1500; ++i, ++len) {
      inner.push_back(make_inner(len, len, static_cast<uint8_t>(len), len & 1));
      pk.emplace_back(inner.back());
    }
    const auto n = static_cast<uint16_t>(pk.size());
    ASSERT_EQ(outb(*eng, *sa.out, pk), n);
    for (size_t i = 0; i < pk.size(); ++i) {
      const auto w = pk[i].bytes();
      const uint32_t L = static_cast<uint32_t>(inner[i].size());
      /* size on the wire: headers + padded payload + ICV, nothing of ESN */
      const uint32_t plen = L + esp_pad_len(L, s->block) + 2;
      ASSERT_EQ(w.size(), 20u + (prm.natt ? 8 : 0) + 8 + s->iv_len + plen + s->icv_len);
      ASSERT_EQ(plen % std::max<uint32_t>(s->block, 4), 0u);
      auto oi = ipv4_parse(cbytes(reinterpret_cast<const std::byte*>(w.data()), w.size()));
      ASSERT_TRUE(oi) << to_string(oi.error());
      EXPECT_EQ(oi->proto, prm.natt ? kIpProtoUdp : kIpProtoEsp);
      EXPECT_EQ(oi->tos, static_cast<uint8_t>(L));        /* RFC 4301 5.1.2.1 */
      EXPECT_EQ(oi->df, (L & 1) != 0);
      EXPECT_EQ(oi->ttl, 64);
      EXPECT_EQ(oi->src, Ipv4Addr(192, 0, 2, 1));
      EXPECT_EQ(oi->dst, Ipv4Addr(198, 51, 100, 2));
      if (prm.natt) {
        EXPECT_EQ(load_be16(reinterpret_cast<const std::byte*>(&w[20 + 2])), 4500);
        EXPECT_EQ(load_be16(reinterpret_cast<const std::byte*>(&w[20 + 4])), w.size() - 20);
        EXPECT_EQ(load_be16(reinterpret_cast<const std::byte*>(&w[20 + 6])), 0);  /* RFC 3948 */
      }
      const size_t e = 20 + (prm.natt ? 8 : 0);
      EXPECT_EQ(load_be32(reinterpret_cast<const std::byte*>(&w[e])), 0x1001u);
      EXPECT_EQ(load_be32(reinterpret_cast<const std::byte*>(&w[e + 4])),
                static_cast<uint32_t>(o.seq_start + sent + i));
      sent_bytes += L;
    }
    sent += n;
    ASSERT_EQ(inb(*eng, *sa.in, pk), n) << "len " << len << " drop "
                                         << to_string(drop_of(&pk[0].v));
    for (size_t i = 0; i < pk.size(); ++i) ASSERT_EQ(pk[i].bytes(), inner[i]) << i;
  }
  EXPECT_EQ(sa.out->next_seq(), o.seq_start + sent);
  EXPECT_EQ(sa.out->stats().packets, sent);
  EXPECT_EQ(sa.out->stats().bytes, sent_bytes);
  EXPECT_EQ(sa.in->stats().packets, sent);
  EXPECT_EQ(sa.in->stats().bytes, sent_bytes);
  for (size_t d = 0; d < static_cast<size_t>(EspDrop::kCount); ++d) {
    EXPECT_EQ(sa.out->stats().drops[d], 0u);
    EXPECT_EQ(sa.in->stats().drops[d], 0u);
  }
}

std::vector<RtParam> rt_params() {
  std::vector<RtParam> v;
  for (const auto& s : esp_suites())
    for (bool natt : {false, true})
      for (bool esn : {false, true}) v.push_back({s.name.data(), natt, esn});
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllSuites, EspRoundTrip, ::testing::ValuesIn(rt_params()),
                         [](const auto& i) {
                           std::string n(i.param.suite);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n + (i.param.natt ? "_natt" : "") + (i.param.esn ? "_esn" : "");
                         });

TEST(EspEngine, LargestPacketFitsAndOneMoreIsTooBig) {
  auto eng = test::engine();
  for (const auto& s : esp_suites()) {
    for (bool natt : {false, true}) {
      PairOpts o;
      o.natt = natt;
      auto sa = make_pair(&s, o);
      /* Largest inner length whose ESP packet is <= 65535 bytes. */
      uint32_t L = 65535;
      const uint32_t hdr = 20 + (natt ? 8 : 0) + 8 + s.iv_len;
      while (hdr + L + esp_pad_len(L, s.block) + 2 + s.icv_len > 65535) --L;
      std::vector<TestPkt> pk;
      pk.emplace_back(make_inner(L, 7), 128, 128);
      pk.emplace_back(make_inner(L + 1, 8), 128, 128);
      pk.emplace_back(make_inner(65535, 9), 128, 128);
      const auto in0 = pk[0].bytes();
      std::vector<PktView*> ord;
      ASSERT_EQ(outb(*eng, *sa.out, pk, &ord), 1) << s.name;
      EXPECT_EQ(ord[0], &pk[0].v);
      EXPECT_EQ(pk[0].v.data_len, hdr + L + esp_pad_len(L, s.block) + 2 + s.icv_len);
      EXPECT_EQ(drop_of(&pk[1].v), EspDrop::kTooBig);
      EXPECT_EQ(drop_of(&pk[2].v), EspDrop::kTooBig);
      std::vector<TestPkt> one;
      one.push_back(pk[0]);
      ASSERT_EQ(inb(*eng, *sa.in, one), 1) << s.name << ' ' << to_string(drop_of(&one[0].v));
      EXPECT_EQ(one[0].bytes(), in0);
      EXPECT_EQ(sa.out->stats().drop(EspDrop::kTooBig), 2u);
    }
  }
}

/* ---- refusals ---- */

TEST(EspEngine, WrongKeyFailsAuthentication) {
  auto eng = test::engine();
  for (const auto& s : esp_suites()) {
    PairOpts a, b;
    b.key_seed = 99;
    auto p1 = make_pair(&s, a);
    auto p2 = make_pair(&s, b);
    std::vector<TestPkt> pk;
    for (int i = 0; i < 5; ++i) pk.emplace_back(make_inner(100 + i, i));
    ASSERT_EQ(outb(*eng, *p1.out, pk), 5);
    EXPECT_EQ(inb(*eng, *p2.in, pk), 0) << s.name;
    for (auto& p : pk) EXPECT_EQ(drop_of(&p.v), EspDrop::kAuthFailed) << s.name;
    EXPECT_EQ(p2.in->stats().drop(EspDrop::kAuthFailed), 5u);
    EXPECT_EQ(p2.in->stats().packets, 0u);
  }
}

TEST(EspEngine, EveryFlippedBitIsRefused) {
  auto eng = test::engine();
  for (const auto& s : esp_suites()) {
    for (bool esn : {false, true}) {
      PairOpts o;
      o.esn = esn;
      o.seq_start = 1000;
      auto sa = make_pair(&s, o);
      std::vector<TestPkt> pk;
      pk.emplace_back(make_inner(61, 3));
      ASSERT_EQ(outb(*eng, *sa.out, pk), 1);
      const TestPkt orig = pk[0];
      const uint32_t esp_off = 20;
      /* Each byte of ESP header, IV, payload and ICV, one bit at a time
       * (bit chosen by position to keep the run short). */
      for (uint32_t pos = esp_off; pos < orig.v.data_len; ++pos) {
        std::vector<TestPkt> f;
        f.push_back(orig);
        f[0].data()[pos] ^= static_cast<uint8_t>(1u << (pos % 8));
        ASSERT_EQ(inb(*eng, *sa.in, f), 0) << s.name << " pos " << pos;
        const EspDrop want = pos < esp_off + 4 ? EspDrop::kSpiMismatch : EspDrop::kAuthFailed;
        EXPECT_EQ(drop_of(&f[0].v), want) << s.name << " esn " << esn << " pos " << pos;
      }
      /* the original still goes through: failures did not move the window */
      std::vector<TestPkt> g;
      g.push_back(orig);
      EXPECT_EQ(inb(*eng, *sa.in, g), 1) << s.name;
    }
  }
}

TEST(EspEngine, ReplayedAndTooOld) {
  auto eng = test::engine();
  for (const auto& s : esp_suites()) {
    auto sa = make_pair(&s);
    std::vector<TestPkt> pk;
    for (int i = 0; i < 200; ++i) pk.emplace_back(make_inner(80, i));
    ASSERT_EQ(outb(*eng, *sa.out, pk), 200);
    std::vector<TestPkt> first{pk[0]}, last{pk[199]};
    std::vector<TestPkt> again{pk[0]};
    ASSERT_EQ(inb(*eng, *sa.in, first), 1);
    EXPECT_EQ(inb(*eng, *sa.in, again), 0);
    EXPECT_EQ(drop_of(&again[0].v), EspDrop::kReplayed);
    ASSERT_EQ(inb(*eng, *sa.in, last), 1);            /* seq 200 */
    std::vector<TestPkt> old{pk[100], pk[150], pk[150]};
    std::vector<PktView*> ord;
    EXPECT_EQ(inb(*eng, *sa.in, old, &ord), 1);       /* 101 too old; 151 ok once */
    EXPECT_EQ(ord[0], &old[1].v);
    EXPECT_EQ(drop_of(&old[0].v), EspDrop::kTooOld);
    EXPECT_EQ(drop_of(&old[2].v), EspDrop::kReplayed);  /* duplicate in one burst */
    EXPECT_EQ(sa.in->stats().drop(EspDrop::kReplayed), 2u);
    EXPECT_EQ(sa.in->stats().drop(EspDrop::kTooOld), 1u);
    EXPECT_EQ(sa.in->stats().packets, 3u);
  }
}

TEST(EspEngine, SequenceOverflowWithoutEsn) {
  auto eng = test::engine();
  for (const char* n : {"aes-128-gcm", "aes-128-cbc-sha1"}) {
    PairOpts o;
    o.seq_start = 0xfffffffeull;
    auto sa = make_pair(suite(n), o);
    std::vector<TestPkt> pk;
    for (int i = 0; i < 4; ++i) pk.emplace_back(make_inner(64, i));
    std::vector<PktView*> ord;
    ASSERT_EQ(outb(*eng, *sa.out, pk, &ord), 2);
    EXPECT_EQ(ord[0], &pk[0].v);
    EXPECT_EQ(ord[1], &pk[1].v);
    EXPECT_EQ(drop_of(&pk[2].v), EspDrop::kSeqOverflow);
    EXPECT_EQ(drop_of(&pk[3].v), EspDrop::kSeqOverflow);
    std::vector<TestPkt> more;
    more.emplace_back(make_inner(64, 9));
    EXPECT_EQ(outb(*eng, *sa.out, more), 0);
    EXPECT_EQ(drop_of(&more[0].v), EspDrop::kSeqOverflow);
    EXPECT_EQ(sa.out->stats().drop(EspDrop::kSeqOverflow), 3u);
    EXPECT_EQ(sa.out->stats().packets, 2u);
    std::vector<TestPkt> two{pk[0], pk[1]};
    EXPECT_EQ(inb(*eng, *sa.in, two), 2);
  }
}

TEST(EspEngine, EsnHighHalfInIcvNotOnWire) {
  auto eng = test::engine();
  for (const auto& s : esp_suites()) {
    PairOpts esn;
    esn.esn = true;
    esn.seq_start = (uint64_t{1} << 32) - 3;  /* wraps inside the burst */
    auto sa = make_pair(&s, esn);
    PairOpts plain;
    plain.esn = false;
    auto no = make_pair(&s, plain);  /* same keys (same seeds), no ESN */
    std::vector<TestPkt> pk;
    for (int i = 0; i < 8; ++i) pk.emplace_back(make_inner(100, i));
    ASSERT_EQ(outb(*eng, *sa.out, pk), 8);
    for (int i = 0; i < 8; ++i) {
      const uint32_t lo = load_be32(pk[i].v.data() + 24);
      EXPECT_EQ(lo, static_cast<uint32_t>(esn.seq_start + i));  /* low half only */
    }
    EXPECT_EQ(sa.out->next_seq(), esn.seq_start + 8);
    /* A receiver without ESN computes the ICV without the high half (and
     * for GCM over an 8-byte AAD): nothing verifies, before the wrap (high
     * half 0) or after it (low halves 1..4; 0 is never valid). */
    auto no2 = make_pair(&s, plain);
    std::vector<TestPkt> pre(pk.begin(), pk.begin() + 3), post(pk.begin() + 4, pk.end());
    EXPECT_EQ(inb(*eng, *no.in, pre), 0) << s.name;
    EXPECT_EQ(inb(*eng, *no2.in, post), 0) << s.name;
    for (auto& p : pre) EXPECT_EQ(drop_of(&p.v), EspDrop::kAuthFailed) << s.name;
    for (auto& p : post) EXPECT_EQ(drop_of(&p.v), EspDrop::kAuthFailed) << s.name;
    /* Both ends with ESN agree across the wrap. */
    EXPECT_EQ(inb(*eng, *sa.in, pk), 8) << s.name;
  }
}

TEST(EspEngine, NoRoomNotIpv4AndMixedBurstOrder) {
  auto eng = test::engine();
  for (const auto& s : esp_suites()) {
    auto sa = make_pair(&s);
    std::vector<TestPkt> pk;
    pk.emplace_back(make_inner(100, 1));                 /* good */
    pk.emplace_back(make_inner(100, 2), 10, 128);        /* no headroom */
    pk.emplace_back(make_inner(100, 3));                 /* good */
    pk.emplace_back(make_inner(100, 4), 128, 0);         /* no tailroom */
    auto v6 = make_inner(100, 5);
    v6[0] = 0x60;
    pk.emplace_back(v6);                                 /* not IPv4 */
    pk.emplace_back(make_inner(100, 6));                 /* good */
    auto trunc = make_inner(100, 7);
    trunc.resize(60);
    pk.emplace_back(trunc);                              /* total length > data */
    pk.emplace_back(make_inner(100, 8));                 /* good */
    std::vector<PktView*> ord;
    ASSERT_EQ(outb(*eng, *sa.out, pk, &ord), 4) << s.name;
    EXPECT_EQ(ord[0], &pk[0].v);
    EXPECT_EQ(ord[1], &pk[2].v);
    EXPECT_EQ(ord[2], &pk[5].v);
    EXPECT_EQ(ord[3], &pk[7].v);
    EXPECT_EQ(drop_of(&pk[1].v), EspDrop::kNoRoom);
    EXPECT_EQ(drop_of(&pk[3].v), EspDrop::kNoRoom);
    EXPECT_EQ(drop_of(&pk[4].v), EspDrop::kNotIpv4);
    EXPECT_EQ(drop_of(&pk[6].v), EspDrop::kNotIpv4);
    EXPECT_EQ(sa.out->stats().drop(EspDrop::kNoRoom), 2u);
    EXPECT_EQ(sa.out->stats().drop(EspDrop::kNotIpv4), 2u);
    EXPECT_EQ(sa.out->next_seq(), 5u);  /* only good packets take numbers */
    /* Inbound, mixed: good, corrupted, good, replay, good. */
    std::vector<TestPkt> in{pk[0], pk[2], pk[5], pk[0], pk[7]};
    in[1].data()[in[1].v.data_len - 1] ^= 1;
    ASSERT_EQ(inb(*eng, *sa.in, in, &ord), 3);
    EXPECT_EQ(ord[0], &in[0].v);
    EXPECT_EQ(ord[1], &in[2].v);
    EXPECT_EQ(ord[2], &in[4].v);
    EXPECT_EQ(drop_of(&in[1].v), EspDrop::kAuthFailed);
    EXPECT_EQ(drop_of(&in[3].v), EspDrop::kReplayed);
  }
}

TEST(EspEngine, EthernetPaddingAfterInnerIsNotCarried) {
  auto eng = test::engine();
  auto sa = make_pair(suite("aes-128-gcm"));
  auto inner = make_inner(40, 1);
  auto padded = inner;
  padded.resize(60, 0);
  std::vector<TestPkt> pk;
  pk.emplace_back(padded);
  ASSERT_EQ(outb(*eng, *sa.out, pk), 1);
  ASSERT_EQ(inb(*eng, *sa.in, pk), 1);
  EXPECT_EQ(pk[0].bytes(), inner);
}

TEST(EspEngine, DirectionMismatchIsRefused) {
  auto eng = test::engine();
  auto sa = make_pair(suite("aes-128-gcm"));
  std::vector<TestPkt> pk;
  pk.emplace_back(make_inner(64, 1));
  EXPECT_EQ(outb(*eng, *sa.in, pk), 0);
  EXPECT_EQ(drop_of(&pk[0].v), EspDrop::kSpiMismatch);
  EXPECT_EQ(inb(*eng, *sa.out, pk), 0);
  EXPECT_EQ(drop_of(&pk[0].v), EspDrop::kSpiMismatch);
}

TEST(EspEngine, BurstsLongerThanScratch) {
  auto eng = test::engine();
  auto sa = make_pair(suite("aes-128-cbc-sha1"));
  std::vector<TestPkt> pk;
  std::vector<std::vector<uint8_t>> inner;
  for (int i = 0; i < 600; ++i) {
    inner.push_back(make_inner(50 + i % 200, i));
    if (i % 97 == 5) inner.back()[0] = 0x55;  /* a few bad ones */
    pk.emplace_back(inner.back());
  }
  std::vector<PktView*> ord;
  const uint16_t k = outb(*eng, *sa.out, pk, &ord);
  EXPECT_EQ(k, 600 - 7);
  /* good ones first, in order */
  std::vector<PktView*> good;
  for (int i = 0; i < 600; ++i)
    if (i % 97 != 5) good.push_back(&pk[i].v);
  EXPECT_TRUE(std::equal(good.begin(), good.end(), ord.begin()));
  std::vector<TestPkt> g;
  for (int i = 0; i < 600; ++i)
    if (i % 97 != 5) g.push_back(pk[i]);
  EXPECT_EQ(inb(*eng, *sa.in, g), 600 - 7);
}

/* ---- inbound outer layer ---- */

TEST(EspEngine, InboundOuterRefusals) {
  auto eng = test::engine();
  PairOpts o;
  o.natt = true;
  auto sa = make_pair(suite("aes-128-gcm"), o);
  std::vector<TestPkt> pk;
  for (int i = 0; i < 8; ++i) pk.emplace_back(make_inner(64, i));
  ASSERT_EQ(outb(*eng, *sa.out, pk), 8);
  auto fix_csum = [](TestPkt& p) {
    auto* h = header_at<Ipv4Hdr>(p.v.data());
    h->csum = be16{};
    h->csum = be16::from_host(ip_checksum(cbytes(p.v.data(), 20)));
  };
  /* 0: keepalive (RFC 3948 2.3) */
  pk[0].data()[28] = 0xff;
  pk[0].v.data_len = 29;
  store_be16(pk[0].v.data() + 2, 29);
  store_be16(pk[0].v.data() + 24, 9);
  fix_csum(pk[0]);
  /* 1: non-ESP marker (IKE) */
  std::memset(pk[1].data() + 28, 0, 4);
  /* 2: bad IPv4 checksum */
  pk[2].data()[10] ^= 1;
  /* 3: a fragment */
  pk[3].data()[6] |= 0x20;
  fix_csum(pk[3]);
  /* 4: wrong UDP port */
  store_be16(pk[4].v.data() + 22, 4501);
  /* 5: truncated ESP */
  {
    const uint16_t tl = 20 + 8 + 30;
    pk[5].v.data_len = tl;
    store_be16(pk[5].v.data() + 2, tl);
    store_be16(pk[5].v.data() + 24, tl - 20);
    fix_csum(pk[5]);
  }
  /* 6: ciphertext not 4-aligned */
  {
    const uint16_t tl = static_cast<uint16_t>(pk[6].v.data_len - 1);
    pk[6].v.data_len = tl;
    store_be16(pk[6].v.data() + 2, tl);
    store_be16(pk[6].v.data() + 24, tl - 20);
    fix_csum(pk[6]);
  }
  /* 7: good */
  std::vector<PktView*> ord;
  EXPECT_EQ(inb(*eng, *sa.in, pk, &ord), 1);
  EXPECT_EQ(ord[0], &pk[7].v);
  const EspDrop want[] = {EspDrop::kBadOuter, EspDrop::kBadOuter, EspDrop::kBadOuter,
                          EspDrop::kBadOuter, EspDrop::kBadOuter, EspDrop::kTruncated,
                          EspDrop::kBadAlignment};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(drop_of(&pk[i].v), want[i]) << i;
}

/* ---- crafted plaintexts: trailer and inner checks behind a valid ICV ---- */

/* Build outer IPv4 / ESP (AES-128-GCM, RFC 4106) around an arbitrary
 * plaintext with raw IPsec-MB, for the inbound checks after the ICV. */
std::vector<uint8_t> gcm_packet(const std::vector<uint8_t>& ck, uint32_t spi, uint32_t seq,
                                const std::vector<uint8_t>& plain) {
  IMB_MGR* m = alloc_mb_mgr(0);
  init_mb_mgr_auto(m, nullptr);
  gcm_key_data kd;
  IMB_AES128_GCM_PRE(m, ck.data(), &kd);
  std::vector<uint8_t> p(20 + 8 + 8 + plain.size() + 16);
  Ipv4Build b;
  b.src = Ipv4Addr(198, 51, 100, 2);
  b.dst = Ipv4Addr(192, 0, 2, 1);
  b.total_len = static_cast<uint16_t>(p.size());
  b.proto = kIpProtoEsp;
  ipv4_build(bytes(reinterpret_cast<std::byte*>(p.data()), 20), b);
  auto* e = reinterpret_cast<std::byte*>(p.data() + 20);
  store_be32(e, spi);
  store_be32(e + 4, seq);
  uint8_t iv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  std::memcpy(p.data() + 28, iv, 8);
  uint8_t nonce[12];
  std::memcpy(nonce, ck.data() + 16, 4);
  std::memcpy(nonce + 4, iv, 8);
  gcm_context_data ctx;
  IMB_AES128_GCM_ENC(m, &kd, &ctx, p.data() + 36, plain.data(), plain.size(), nonce,
                     p.data() + 20, 8, p.data() + 36 + plain.size(), 16);
  free_mb_mgr(m);
  return p;
}

TEST(EspEngine, TrailerAndInnerChecksBehindValidIcv) {
  auto eng = test::engine();
  auto sa = make_pair(suite("aes-128-gcm"));
  auto inner = make_inner(42, 1);  /* 42 + 2 = 44: no padding needed */
  auto with = [&](std::vector<uint8_t> pad, uint8_t padlen, uint8_t nh,
                  std::vector<uint8_t> in) {
    in.insert(in.end(), pad.begin(), pad.end());
    in.push_back(padlen);
    in.push_back(nh);
    return in;
  };
  struct Case {
    std::vector<uint8_t> plain;
    EspDrop want;
  };
  auto bad_inner = inner;
  bad_inner[0] = 0x65;
  auto long_inner = inner;
  long_inner[3] = 60;  /* total length beyond the payload */
  std::vector<Case> cases = {
      {with({}, 0, 4, inner), EspDrop::kNone},
      {with({1, 2, 3, 4}, 4, 4, inner), EspDrop::kNone},
      {with({1, 2, 4, 4}, 4, 4, inner), EspDrop::kBadPadding},
      {with({0, 0, 0, 0}, 4, 4, inner), EspDrop::kBadPadding},
      {with({}, 200, 4, inner), EspDrop::kBadPadLength},
      {with({}, 0, 59, inner), EspDrop::kDummy},
      {with({}, 0, 41, inner), EspDrop::kBadNextHeader},
      {with({}, 0, 4, bad_inner), EspDrop::kBadInner},
      {with({}, 0, 4, long_inner), EspDrop::kBadInner},
      {with({1, 2}, 2, 4, std::vector<uint8_t>(inner.begin(), inner.begin() + 16)),
       EspDrop::kBadInner},
      /* TFC padding (RFC 4303 2.7) after the inner packet is dropped */
      {with({}, 0, 4, [&] { auto v = inner; v.insert(v.end(), 8, 0xaa); return v; }()),
       EspDrop::kNone},
  };
  uint32_t seq = 1;
  for (auto& c : cases) {
    std::vector<TestPkt> pk;
    pk.emplace_back(gcm_packet(sa.ck, 0x1001, seq++, c.plain));
    const uint16_t k = inb(*eng, *sa.in, pk);
    if (c.want == EspDrop::kNone) {
      ASSERT_EQ(k, 1) << to_string(drop_of(&pk[0].v));
      EXPECT_EQ(pk[0].bytes(), inner);
    } else {
      EXPECT_EQ(k, 0);
      EXPECT_EQ(drop_of(&pk[0].v), c.want) << "case seq " << seq - 1;
    }
  }
  /* authentic packets move the window even when their contents are bad */
  std::vector<TestPkt> again;
  again.emplace_back(gcm_packet(sa.ck, 0x1001, 6, cases[0].plain));
  EXPECT_EQ(inb(*eng, *sa.in, again), 0);
  EXPECT_EQ(drop_of(&again[0].v), EspDrop::kReplayed);
}

/* ---- wire format, checked independently ---- */

TEST(EspEngine, GcmWireFormatPerRfc4106) {
  /* Decrypt the engine's output with raw IPsec-MB: IV = 64-bit sequence
   * number, nonce = salt || IV, AAD = SPI || seq (|| with ESN the high
   * half in the middle), ICV 16 bytes; padding 1, 2, 3...; next header 4. */
  auto eng = test::engine();
  IMB_MGR* m = alloc_mb_mgr(0);
  init_mb_mgr_auto(m, nullptr);
  for (bool esn : {false, true}) {
    PairOpts o;
    o.esn = esn;
    o.seq_start = esn ? 0x500000007ull : 7;
    auto sa = make_pair(suite("aes-128-gcm"), o);
    gcm_key_data kd;
    IMB_AES128_GCM_PRE(m, sa.ck.data(), &kd);
    for (uint32_t L = 20; L < 40; ++L) {
      auto inner = make_inner(L, L);
      std::vector<TestPkt> pk;
      pk.emplace_back(inner);
      ASSERT_EQ(outb(*eng, *sa.out, pk), 1);
      auto w = pk[0].bytes();
      const uint64_t s = o.seq_start + (L - 20);
      uint8_t* e = w.data() + 20;
      ASSERT_EQ(load_be32(reinterpret_cast<std::byte*>(e + 4)), static_cast<uint32_t>(s));
      EXPECT_EQ(load_be32(reinterpret_cast<std::byte*>(e + 8)), static_cast<uint32_t>(s >> 32));
      EXPECT_EQ(load_be32(reinterpret_cast<std::byte*>(e + 12)), static_cast<uint32_t>(s));
      uint8_t nonce[12], aad[12];
      std::memcpy(nonce, sa.ck.data() + 16, 4);
      std::memcpy(nonce + 4, e + 8, 8);
      std::memcpy(aad, e, 4);
      store_be32(reinterpret_cast<std::byte*>(aad + 4), static_cast<uint32_t>(s >> 32));
      std::memcpy(aad + 8, e + 4, 4);
      const uint8_t* a = esn ? aad : e;
      const size_t ct = w.size() - 20 - 16 - 16;
      std::vector<uint8_t> plain(ct);
      uint8_t tag[16];
      gcm_context_data ctx;
      IMB_AES128_GCM_DEC(m, &kd, &ctx, plain.data(), e + 16, ct, nonce, a, esn ? 12 : 8, tag, 16);
      EXPECT_EQ(0, std::memcmp(tag, e + 16 + ct, 16)) << L;
      ASSERT_EQ(ct % 4, 0u);
      const uint8_t padlen = plain[ct - 2];
      EXPECT_EQ(padlen, esp_pad_len(L, 4));
      EXPECT_EQ(plain[ct - 1], 4);
      for (uint8_t i = 0; i < padlen; ++i) EXPECT_EQ(plain[L + i], i + 1);
      plain.resize(L);
      EXPECT_EQ(plain, inner);
    }
  }
  free_mb_mgr(m);
}

TEST(EspEngine, NullCipherPaddingMonotonicOnTheWire) {
  auto eng = test::engine();
  auto sa = make_pair(suite("null-sha1"));
  for (uint32_t L = 20; L < 60; ++L) {
    auto inner = make_inner(L, L);
    std::vector<TestPkt> pk;
    pk.emplace_back(inner);
    ASSERT_EQ(outb(*eng, *sa.out, pk), 1);
    auto w = pk[0].bytes();
    const size_t end = w.size() - 12;  /* before the ICV */
    const uint8_t padlen = w[end - 2];
    EXPECT_EQ(w[end - 1], 4);
    EXPECT_EQ(padlen, esp_pad_len(L, 4));
    for (uint8_t i = 0; i < padlen; ++i) EXPECT_EQ(w[28 + L + i], i + 1);
    EXPECT_EQ(std::vector<uint8_t>(w.begin() + 28, w.begin() + 28 + L), inner);
  }
}

TEST(EspEngine, CbcIvsDistinctAndNotACounter) {
  auto eng = test::engine();
  for (const char* n : {"aes-128-cbc-sha1", "aes-256-cbc-sha256"}) {
    auto sa = make_pair(suite(n));
    auto sa2 = make_pair(suite(n));  /* same keys, another IV key */
    std::set<std::string> ivs;  /* IVs as byte strings */
    std::vector<uint8_t> prev;
    for (int b = 0; b < 20; ++b) {
      std::vector<TestPkt> pk, pk2;
      for (int i = 0; i < 50; ++i) {
        pk.emplace_back(make_inner(64, 1));  /* identical plaintexts */
        pk2.emplace_back(make_inner(64, 1));
      }
      ASSERT_EQ(outb(*eng, *sa.out, pk), 50);
      ASSERT_EQ(outb(*eng, *sa2.out, pk2), 50);
      for (int i = 0; i < 50; ++i) {
        auto w = pk[i].bytes();
        std::vector<uint8_t> iv(w.begin() + 28, w.begin() + 44);
        if (!prev.empty()) {
          /* not prev + 1 in its low 64 bits */
          uint64_t a = 0, c = 0;
          for (int j = 8; j < 16; ++j) a = a << 8 | prev[j], c = c << 8 | iv[j];
          EXPECT_NE(c, a + 1);
        }
        prev = iv;
        ivs.insert(std::string(iv.begin(), iv.end()));
        auto w2 = pk2[i].bytes();
        ivs.insert(std::string(w2.begin() + 28, w2.begin() + 44));
        /* same key and plaintext, different IV: different ciphertext */
        EXPECT_NE(std::vector<uint8_t>(w.begin() + 44, w.end()),
                  std::vector<uint8_t>(w2.begin() + 44, w2.end()));
      }
    }
    EXPECT_EQ(ivs.size(), 2000u) << n;
  }
}

}  // namespace
}  // namespace mipvpn
