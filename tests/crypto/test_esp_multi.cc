/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP engine, bursts of several SAs (esp_outb_process_multi /
 * esp_inb_process_multi): every result is compared byte for byte with
 * calling the single-SA functions once per SA on a copy of the burst:
 * the bytes of every good packet, which packets are good, every drop
 * reason, the burst contract (good first in arrival order, the bad after
 * them in arrival order), each SA's counters and next sequence number.
 * Suites of one format and of different formats, NAT-T, ESN (with a
 * low-half wrap inside the burst), an ICV failure in the middle, replays
 * inside a burst and across bursts, sequence number overflow, a
 * wrong-direction SA, bursts longer than the scratch.
 */
#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "codec/esp.h"
#include "crypto/esp_sa.h"
#include "esp_test_util.h"

namespace mipvpn {
namespace {

using test::make_inner;
using test::make_pair;
using test::PairOpts;
using test::SaPair;
using test::TestPkt;

const EspSuite* suite(std::string_view n) {
  const EspSuite* s = esp_suite_by_name(n);
  EXPECT_NE(s, nullptr) << n;
  return s;
}

struct SaSpec {
  const char* suite;
  bool natt = false;
  bool esn = false;
  uint64_t seq_start = 1;
};

/* Twin SA sets with the same keys and options: `a` for the multi call,
 * `b` for the per-SA reference (inbound: independent replay windows in
 * the same state). Outbound the reference uses `a` too (its CBC IV key is
 * drawn at random per SA), with its counter and stats rewound. */
struct Sets {
  std::vector<SaPair> a, b;
};

Sets make_sets(const std::vector<SaSpec>& specs) {
  Sets s;
  for (size_t k = 0; k < specs.size(); ++k) {
    PairOpts o;
    o.natt = specs[k].natt;
    o.esn = specs[k].esn;
    o.seq_start = specs[k].seq_start;
    o.spi = static_cast<uint32_t>(0x2000 + k);
    o.key_seed = static_cast<uint32_t>(10 + 7 * k);
    s.a.push_back(make_pair(suite(specs[k].suite), o));
    s.b.push_back(make_pair(suite(specs[k].suite), o));
  }
  return s;
}

bool same_stats(const EspSaStats& x, const EspSaStats& y) {
  return x.packets == y.packets && x.bytes == y.bytes &&
         std::equal(std::begin(x.drops), std::end(x.drops), std::begin(y.drops));
}

struct Outcome {
  std::vector<bool> ok;              /* by packet */
  std::vector<uint16_t> drop;        /* by packet, for the refused */
  std::vector<std::vector<uint8_t>> bytes;  /* by packet, for the good */
};

/* The multi call on pk (in place); checks the burst contract. */
template <class Multi>
Outcome run_multi(Multi multi, EspEngine& eng, const std::vector<EspSa*>& sa_of,
                  std::vector<TestPkt>& pk) {
  const size_t n = pk.size();
  std::vector<PktView*> v;
  for (auto& p : pk) v.push_back(&p.v);
  std::vector<EspSa*> sas(sa_of);
  const uint16_t k = multi(eng, sas.data(), v.data(), static_cast<uint16_t>(n));
  Outcome o;
  o.ok.assign(n, false);
  o.drop.assign(n, 0);
  o.bytes.resize(n);
  /* map views back to packets */
  std::map<const PktView*, size_t> at;
  for (size_t i = 0; i < n; ++i) at[&pk[i].v] = i;
  std::vector<size_t> good, bad;
  for (size_t j = 0; j < n; ++j) (j < k ? good : bad).push_back(at.at(v[j]));
  EXPECT_TRUE(std::is_sorted(good.begin(), good.end())) << "good packets not in arrival order";
  EXPECT_TRUE(std::is_sorted(bad.begin(), bad.end())) << "bad packets not in arrival order";
  for (size_t i : good) {
    o.ok[i] = true;
    o.bytes[i] = pk[i].bytes();
  }
  for (size_t i : bad) o.drop[i] = pk[i].v.drop;
  return o;
}

/* The per-SA reference on pk (in place): one call per SA in order of
 * first appearance, each with its packets in arrival order. */
template <class Single>
Outcome run_ref(Single single, EspEngine& eng, const std::vector<EspSa*>& sa_of,
                std::vector<TestPkt>& pk) {
  const size_t n = pk.size();
  Outcome o;
  o.ok.assign(n, false);
  o.drop.assign(n, 0);
  o.bytes.resize(n);
  std::vector<EspSa*> seen;
  for (size_t i = 0; i < n; ++i) {
    if (std::find(seen.begin(), seen.end(), sa_of[i]) != seen.end()) continue;
    seen.push_back(sa_of[i]);
    std::vector<PktView*> v;
    std::vector<size_t> idx;
    for (size_t j = i; j < n; ++j)
      if (sa_of[j] == sa_of[i]) {
        v.push_back(&pk[j].v);
        idx.push_back(j);
      }
    const uint16_t k = single(eng, *sa_of[i], v.data(), static_cast<uint16_t>(v.size()));
    for (uint16_t q = 0; q < k; ++q)
      for (size_t j : idx)
        if (&pk[j].v == v[q]) o.ok[j] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    if (o.ok[i])
      o.bytes[i] = pk[i].bytes();
    else
      o.drop[i] = pk[i].v.drop;
  }
  return o;
}

void expect_same(const Outcome& m, const Outcome& r, const char* what) {
  ASSERT_EQ(m.ok.size(), r.ok.size());
  for (size_t i = 0; i < m.ok.size(); ++i) {
    EXPECT_EQ(m.ok[i], r.ok[i]) << what << " packet " << i;
    if (m.ok[i] && r.ok[i]) {
      EXPECT_EQ(m.bytes[i], r.bytes[i]) << what << " packet " << i;
    }
    if (!m.ok[i] && !r.ok[i]) {
      EXPECT_EQ(m.drop[i], r.drop[i]) << what << " packet " << i;
    }
  }
}

std::vector<EspSa*> uniq(const std::vector<EspSa*>& v) {
  std::vector<EspSa*> u;
  for (EspSa* s : v)
    if (std::find(u.begin(), u.end(), s) == u.end()) u.push_back(s);
  return u;
}

/* Outbound: multi vs per-SA on the same SAs, counters and sequence
 * numbers rewound in between. Returns the multi call's packets. */
template <class Multi = decltype(&esp_outb_process_multi)>
std::vector<TestPkt> outb_compare(EspEngine& eng, const std::vector<EspSa*>& sa_of,
                                  const std::vector<TestPkt>& in, Outcome* out = nullptr,
                                  Multi multi = esp_outb_process_multi) {
  const auto sas = uniq(sa_of);
  std::vector<uint64_t> seq0;
  std::vector<EspSaStats> st0;
  for (EspSa* s : sas) {
    seq0.push_back(s->impl()->hot.seq.load());
    st0.push_back(s->impl()->stats);
  }
  std::vector<TestPkt> pm(in), pr(in);
  const Outcome m = run_multi(multi, eng, sa_of, pm);
  std::vector<uint64_t> seq_m;
  std::vector<EspSaStats> st_m;
  for (size_t k = 0; k < sas.size(); ++k) {
    seq_m.push_back(sas[k]->impl()->hot.seq.load());
    st_m.push_back(sas[k]->impl()->stats);
    sas[k]->impl()->hot.seq.store(seq0[k]);
    sas[k]->impl()->stats = st0[k];
  }
  const Outcome r = run_ref(esp_outb_process, eng, sa_of, pr);
  expect_same(m, r, "outbound");
  for (size_t k = 0; k < sas.size(); ++k) {
    EXPECT_EQ(seq_m[k], sas[k]->impl()->hot.seq.load()) << "SA " << k;
    EXPECT_TRUE(same_stats(st_m[k], sas[k]->stats())) << "SA " << k;
  }
  if (out) *out = m;
  return pm;
}

/* Inbound: multi on the `a` twins, per-SA on the `b` twins. */
template <class Multi = decltype(&esp_inb_process_multi)>
Outcome inb_compare(EspEngine& eng, const std::vector<EspSa*>& sa_a,
                    const std::vector<EspSa*>& sa_b, const std::vector<TestPkt>& in,
                    Multi multi = esp_inb_process_multi) {
  std::vector<TestPkt> pm(in), pr(in);
  const Outcome m = run_multi(multi, eng, sa_a, pm);
  const Outcome r = run_ref(esp_inb_process, eng, sa_b, pr);
  expect_same(m, r, "inbound");
  const auto ua = uniq(sa_a), ub = uniq(sa_b);
  EXPECT_EQ(ua.size(), ub.size());
  for (size_t k = 0; k < std::min(ua.size(), ub.size()); ++k) {
    EXPECT_TRUE(same_stats(ua[k]->stats(), ub[k]->stats())) << "SA " << k;
    if (ua[k]->impl()->replay && ub[k]->impl()->replay) {
      EXPECT_EQ(ua[k]->impl()->replay->top(), ub[k]->impl()->replay->top()) << "SA " << k;
    }
  }
  return m;
}

std::vector<SaSpec> all_formats() {
  std::vector<SaSpec> v;
  for (const auto& s : esp_suites()) {
    v.push_back({s.name.data(), false, false, 1});
    v.push_back({s.name.data(), true, true, 1});
  }
  return v;
}

/* Outbound packets of a mixed burst: SA k of sets.a, sizes varied. */
struct Burst {
  std::vector<TestPkt> pk;
  std::vector<size_t> sa;  /* index into the sets */
};

Burst mixed(size_t n, size_t nsa, uint32_t seed, bool random_sa) {
  Burst b;
  std::mt19937 rng(seed);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t len = 20 + rng() % 1481;
    b.pk.emplace_back(make_inner(len, static_cast<uint32_t>(seed * 1000 + i), static_cast<uint8_t>(i)));
    b.sa.push_back(random_sa ? rng() % nsa : i % nsa);
  }
  return b;
}

std::vector<EspSa*> outs(Sets& s, const std::vector<size_t>& idx) {
  std::vector<EspSa*> v;
  for (size_t k : idx) v.push_back(s.a[k].out.get());
  return v;
}
std::vector<EspSa*> ins(std::vector<SaPair>& s, const std::vector<size_t>& idx) {
  std::vector<EspSa*> v;
  for (size_t k : idx) v.push_back(s[k].in.get());
  return v;
}

TEST(EspMulti, OutboundSameFormatInterleavedWithRefusals) {
  auto eng = test::engine();
  /* aes-128 and aes-256 CBC-SHA1: one format (16, 16, 12), five SAs */
  auto sets = make_sets({{"aes-128-cbc-sha1"}, {"aes-256-cbc-sha1"}, {"aes-128-cbc-sha1"},
                         {"aes-128-cbc-sha1", true}, {"aes-256-cbc-sha1", false, true}});
  for (uint32_t round = 0; round < 3; ++round) {
    Burst b = mixed(32, 5, round + 1, false);
    b.pk[7].data()[0] = 0x55;                            /* not IPv4 */
    {                                                    /* no headroom */
      TestPkt& q = b.pk[12];
      std::memmove(q.mem.data() + 8, q.v.data(), q.v.data_len);
      q.v.data_off = 8;
    }
    b.pk[21].v.data_len = 10;                            /* truncated inner */
    Outcome m;
    outb_compare(*eng, outs(sets, b.sa), b.pk, &m);
    EXPECT_FALSE(m.ok[7]);
    EXPECT_EQ(m.drop[7], static_cast<uint16_t>(EspDrop::kNotIpv4));
    EXPECT_EQ(m.drop[12], static_cast<uint16_t>(EspDrop::kNoRoom));
    EXPECT_EQ(std::count(m.ok.begin(), m.ok.end(), true), 29);
  }
}

TEST(EspMulti, OutboundEveryFormatNattEsnRandomMix) {
  auto eng = test::engine();
  auto sets = make_sets(all_formats());
  for (uint32_t round = 0; round < 4; ++round) {
    Burst b = mixed(64, sets.a.size(), 100 + round, true);
    Outcome m;
    outb_compare(*eng, outs(sets, b.sa), b.pk, &m);
    EXPECT_EQ(std::count(m.ok.begin(), m.ok.end(), true), 64);
  }
}

TEST(EspMulti, OutboundSequenceOverflowOfOneSaOnly) {
  auto eng = test::engine();
  auto sets = make_sets({{"aes-128-cbc-sha1", false, false, 0xfffffffeull},
                         {"aes-128-cbc-sha1"},
                         {"aes-128-gcm", false, false, 0xfffffffdull},
                         {"aes-128-gcm", false, true, 0xfffffffeull}});
  Burst b = mixed(24, 4, 5, false);
  Outcome m;
  outb_compare(*eng, outs(sets, b.sa), b.pk, &m);
  /* SA 0: 2 numbers left, SA 2: 3; SA 1 and the ESN SA 3 take all theirs */
  EXPECT_EQ(std::count(m.ok.begin(), m.ok.end(), true), 2 + 6 + 3 + 6);
  EXPECT_EQ(sets.a[0].out->stats().drop(EspDrop::kSeqOverflow), 4u);
  EXPECT_EQ(sets.a[1].out->stats().packets, 6u);
}

TEST(EspMulti, WrongDirectionSaRefusesOnlyItsPackets) {
  auto eng = test::engine();
  auto sets = make_sets({{"aes-128-cbc-sha1"}, {"aes-128-gcm"}, {"null-sha256"}, {"null-sha1"}});
  Burst b = mixed(12, 3, 9, false);
  std::vector<EspSa*> sa_of = outs(sets, b.sa);
  for (size_t i = 0; i < sa_of.size(); ++i)
    if (b.sa[i] == 1) sa_of[i] = sets.a[1].in.get();  /* an inbound SA, outbound */
  Outcome m;
  outb_compare(*eng, sa_of, b.pk, &m);
  for (size_t i = 0; i < sa_of.size(); ++i) {
    EXPECT_EQ(m.ok[i], b.sa[i] != 1) << i;
    if (b.sa[i] == 1) {
      EXPECT_EQ(m.drop[i], static_cast<uint16_t>(EspDrop::kSpiMismatch));
    }
  }
  /* and the other way round */
  std::vector<TestPkt> enc;
  std::vector<size_t> enc_sa;
  for (size_t i = 0; i < b.pk.size(); ++i) {
    if (b.sa[i] == 1) continue;
    TestPkt p(make_inner(200, static_cast<uint32_t>(i)));
    PktView* v = &p.v;
    ASSERT_EQ(esp_outb_process(*eng, *sets.a[b.sa[i]].out, &v, 1), 1);
    enc.push_back(p);
    enc_sa.push_back(b.sa[i]);
  }
  std::vector<EspSa*> ia = ins(sets.a, enc_sa), ib = ins(sets.b, enc_sa);
  ia[3] = sets.a[3].out.get();  /* an outbound SA, inbound */
  ib[3] = sets.b[3].out.get();
  const Outcome r = inb_compare(*eng, ia, ib, enc);
  EXPECT_FALSE(r.ok[3]);
  EXPECT_EQ(r.drop[3], static_cast<uint16_t>(EspDrop::kSpiMismatch));
  EXPECT_EQ(std::count(r.ok.begin(), r.ok.end(), true), static_cast<long>(enc.size()) - 1);
}

/* Inbound: each SA's packets made by its outbound twin, per SA. */
struct InBurst {
  std::vector<TestPkt> pk;
  std::vector<size_t> sa;
  std::vector<std::vector<uint8_t>> inner;
};

InBurst encrypt(EspEngine& eng, Sets& sets, size_t n, uint32_t seed) {
  InBurst ib;
  Burst b = mixed(n, sets.a.size(), seed, true);
  for (size_t i = 0; i < n; ++i) {
    ib.inner.push_back(b.pk[i].bytes());
    PktView* v = &b.pk[i].v;
    EXPECT_EQ(esp_outb_process(eng, *sets.a[b.sa[i]].out, &v, 1), 1);
  }
  ib.pk = b.pk;
  ib.sa = b.sa;
  return ib;
}

TEST(EspMulti, InboundMixedFormatsAuthFailureReplayAcrossBursts) {
  auto eng = test::engine();
  auto sets = make_sets(all_formats());
  InBurst b1 = encrypt(*eng, sets, 48, 21);
  InBurst b2 = encrypt(*eng, sets, 48, 22);
  /* burst 1: an ICV failure in the middle, a duplicate inside the burst */
  std::vector<TestPkt> p1(b1.pk);
  std::vector<size_t> s1(b1.sa);
  p1[20].data()[p1[20].v.data_len - 1] ^= 1;
  p1.push_back(p1[5]);
  s1.push_back(s1[5]);
  p1.push_back(p1[20]);  /* the forged one again: not in the window, fails again */
  s1.push_back(s1[20]);
  Outcome m = inb_compare(*eng, ins(sets.a, s1), ins(sets.b, s1), p1);
  EXPECT_FALSE(m.ok[20]);
  EXPECT_EQ(m.drop[20], static_cast<uint16_t>(EspDrop::kAuthFailed));
  EXPECT_EQ(m.drop[48], static_cast<uint16_t>(EspDrop::kReplayed));
  EXPECT_EQ(m.drop[49], static_cast<uint16_t>(EspDrop::kAuthFailed));
  for (size_t i = 0; i < 48; ++i)
    if (i != 20) {
      EXPECT_TRUE(m.ok[i]) << i;
      EXPECT_EQ(m.bytes[i], b1.inner[i]) << i;
    }
  /* burst 2: new packets, the good original of the forged one, replays of
   * burst 1 */
  std::vector<TestPkt> p2(b2.pk);
  std::vector<size_t> s2(b2.sa);
  p2.insert(p2.begin() + 10, b1.pk[20]);
  s2.insert(s2.begin() + 10, b1.sa[20]);
  p2.push_back(b1.pk[3]);
  s2.push_back(b1.sa[3]);
  m = inb_compare(*eng, ins(sets.a, s2), ins(sets.b, s2), p2);
  EXPECT_TRUE(m.ok[10]);
  EXPECT_FALSE(m.ok.back());
  EXPECT_EQ(m.drop.back(), static_cast<uint16_t>(EspDrop::kReplayed));
}

TEST(EspMulti, InboundEsnWrapInsideTheBurstAndTooOld) {
  auto eng = test::engine();
  std::vector<SaSpec> specs;
  for (const char* s : {"aes-128-cbc-sha1", "aes-128-gcm", "null-sha256", "aes-256-cbc-sha256"}) {
    specs.push_back({s, false, true, (uint64_t{1} << 32) - 5});  /* wraps in the burst */
    specs.push_back({s, true, false, 1});
  }
  auto sets = make_sets(specs);
  /* 100 packets for each SA, sent in order, interleaved */
  std::vector<TestPkt> all;
  std::vector<size_t> all_sa;
  for (int i = 0; i < 100; ++i)
    for (size_t k = 0; k < sets.a.size(); ++k) {
      TestPkt p(make_inner(64 + static_cast<uint32_t>(i), static_cast<uint32_t>(i * 16 + k)));
      PktView* v = &p.v;
      ASSERT_EQ(esp_outb_process(*eng, *sets.a[k].out, &v, 1), 1);
      all.push_back(p);
      all_sa.push_back(k);
    }
  /* Bursts of 64 packets in the order sent, except that packets 10..39 of
   * every SA come last: the first burst wraps the ESN SAs' low half
   * (pieces cut at the wrap), then 40..99 move the window to 99, then of
   * 10..39 only those inside the window of 64 (36..39) are taken, the
   * rest are too old. */
  auto pick = [&](size_t from, size_t to) {  /* packets from..to-1 of every SA */
    std::pair<std::vector<TestPkt>, std::vector<size_t>> r;
    for (size_t j = from * sets.a.size(); j < to * sets.a.size(); ++j) {
      r.first.push_back(all[j]);
      r.second.push_back(all_sa[j]);
    }
    return r;
  };
  for (auto [from, to] : {std::pair<size_t, size_t>{0, 8}, {8, 10}, {40, 48}, {48, 56}, {56, 64},
                          {64, 72}, {72, 80}, {80, 88}, {88, 96}, {96, 100}, {10, 18}, {18, 26},
                          {26, 34}, {34, 40}}) {
    auto [c, cs] = pick(from, to);
    inb_compare(*eng, ins(sets.a, cs), ins(sets.b, cs), c);
  }
  for (size_t k = 0; k < sets.a.size(); ++k) {
    /* with ESN a low half left of the window stands for the next
     * subspace (RFC 4303 A2.2): the ICV fails instead */
    const auto& st = sets.a[k].in->stats();
    EXPECT_EQ(st.drop(specs[k].esn ? EspDrop::kAuthFailed : EspDrop::kTooOld), 26u) << k;
    EXPECT_EQ(sets.a[k].in->stats().packets, 10u + 60u + 4u) << k;
  }
}

TEST(EspMulti, BurstsLongerThanScratchRoundTrip) {
  auto eng = test::engine();
  std::vector<SaSpec> specs;
  for (int k = 0; k < 16; ++k)
    specs.push_back({k % 3 == 0 ? "aes-128-gcm" : (k % 3 == 1 ? "aes-128-cbc-sha1" : "null-sha1")});
  auto sets = make_sets(specs);
  Burst b = mixed(600, 16, 31, true);
  for (size_t i = 0; i < 600; i += 97) b.pk[i].data()[0] = 0x55;
  std::vector<std::vector<uint8_t>> inner;
  for (auto& p : b.pk) inner.push_back(p.bytes());
  Outcome m;
  std::vector<TestPkt> enc = outb_compare(*eng, outs(sets, b.sa), b.pk, &m);
  std::vector<TestPkt> good;
  std::vector<size_t> gsa;
  std::vector<std::vector<uint8_t>> ginner;
  for (size_t i = 0; i < 600; ++i)
    if (m.ok[i]) {
      good.push_back(enc[i]);
      gsa.push_back(b.sa[i]);
      ginner.push_back(inner[i]);
    }
  EXPECT_EQ(good.size(), 600u - 7u);
  const Outcome r = inb_compare(*eng, ins(sets.a, gsa), ins(sets.b, gsa), good);
  for (size_t i = 0; i < good.size(); ++i) {
    EXPECT_TRUE(r.ok[i]) << i;
    EXPECT_EQ(r.bytes[i], ginner[i]) << i;
  }
}

/* Several workers (each with its own engine) send mixed bursts over the
 * same outbound SAs at once: every SA's sequence numbers are each used
 * exactly once, none skipped (RFC 4303 3.3.3), in order within a worker,
 * and every packet decrypts. */
TEST(EspMulti, OutboundSequenceNumbersUniqueAcrossWorkers) {
  constexpr int kWorkers = 4, kBursts = 100, kBurst = 32, kSas = 3;
  auto sets = make_sets({{"aes-128-cbc-sha1"}, {"aes-128-gcm"}, {"null-sha256", true}});
  std::vector<std::vector<std::vector<uint32_t>>> seen(
      kWorkers, std::vector<std::vector<uint32_t>>(kSas));
  std::vector<std::thread> th;
  for (int w = 0; w < kWorkers; ++w) {
    th.emplace_back([&, w] {
      auto eng = test::engine();
      ASSERT_TRUE(eng);
      for (int b = 0; b < kBursts; ++b) {
        std::vector<TestPkt> pk;
        std::vector<EspSa*> sa_of;
        std::vector<size_t> k_of;
        for (int i = 0; i < kBurst; ++i) {
          const size_t k = static_cast<size_t>((i * 7 + b + w) % kSas);
          pk.emplace_back(make_inner(64 + static_cast<uint32_t>(i), static_cast<uint32_t>(b * kBurst + i)));
          sa_of.push_back(sets.a[k].out.get());
          k_of.push_back(k);
        }
        std::vector<PktView*> v;
        for (auto& p : pk) v.push_back(&p.v);
        ASSERT_EQ(esp_outb_process_multi(*eng, sa_of.data(), v.data(), kBurst), kBurst);
        for (int i = 0; i < kBurst; ++i) {
          const uint32_t off = k_of[static_cast<size_t>(i)] == 2 ? 28 : 20;
          seen[static_cast<size_t>(w)][k_of[static_cast<size_t>(i)]].push_back(
              load_be32(reinterpret_cast<const std::byte*>(pk[static_cast<size_t>(i)].bytes().data() + off + 4)));
        }
      }
    });
  }
  for (auto& t : th) t.join();
  for (size_t k = 0; k < kSas; ++k) {
    std::vector<uint32_t> all;
    for (const auto& per : seen) {
      EXPECT_TRUE(std::is_sorted(per[k].begin(), per[k].end())) << k;
      all.insert(all.end(), per[k].begin(), per[k].end());
    }
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1) << "SA " << k;
    EXPECT_EQ(sets.a[k].out->stats().packets, all.size());
    EXPECT_EQ(sets.a[k].out->next_seq(), all.size() + 1);
  }
}

/* The grouped entry points, called as a stage does: the SAs' runs of
 * packets and their counts (computed here from sa_of_pkt, which must hold
 * each SA's packets together). */
template <uint16_t (*Grouped)(EspEngine&, EspSa* const*, const uint16_t*, uint16_t, PktView**,
                              uint16_t) noexcept>
uint16_t as_grouped(EspEngine& eng, EspSa* const* sa_of_pkt, PktView** pkts, uint16_t n) noexcept {
  std::vector<EspSa*> sas;
  std::vector<uint16_t> cnt;
  for (uint16_t i = 0; i < n; ++i) {
    if (sas.empty() || sas.back() != sa_of_pkt[i]) {
      sas.push_back(sa_of_pkt[i]);
      cnt.push_back(0);
    }
    ++cnt.back();
  }
  return Grouped(eng, sas.data(), cnt.data(), static_cast<uint16_t>(sas.size()), pkts, n);
}

TEST(EspMulti, GroupedEntryPointsAsAStageCallsThem) {
  auto eng = test::engine();
  auto sets = make_sets(all_formats());
  for (size_t n : {size_t{40}, size_t{300}}) {  /* 300: longer than the scratch */
    Burst b = mixed(n, sets.a.size(), static_cast<uint32_t>(n), true);
    /* SA by SA, arrival order inside each */
    std::vector<size_t> ord(n);
    for (size_t i = 0; i < n; ++i) ord[i] = i;
    std::stable_sort(ord.begin(), ord.end(), [&](size_t x, size_t y) { return b.sa[x] < b.sa[y]; });
    Burst g;
    for (size_t i : ord) {
      g.pk.push_back(b.pk[i]);
      g.sa.push_back(b.sa[i]);
    }
    g.pk[n / 2].data()[0] = 0x55;  /* one refused */
    Outcome m;
    std::vector<TestPkt> enc = outb_compare(*eng, outs(sets, g.sa), g.pk, &m,
                                            as_grouped<esp_outb_process_grouped>);
    EXPECT_EQ(static_cast<size_t>(std::count(m.ok.begin(), m.ok.end(), true)), n - 1);
    std::vector<TestPkt> good;
    std::vector<size_t> gsa;
    for (size_t i = 0; i < n; ++i)
      if (m.ok[i]) {
        good.push_back(enc[i]);
        gsa.push_back(g.sa[i]);
      }
    good[3].data()[good[3].v.data_len - 1] ^= 1;  /* one forged */
    const Outcome r = inb_compare(*eng, ins(sets.a, gsa), ins(sets.b, gsa), good,
                                  as_grouped<esp_inb_process_grouped>);
    EXPECT_EQ(static_cast<size_t>(std::count(r.ok.begin(), r.ok.end(), true)), n - 2);
    EXPECT_EQ(r.drop[3], static_cast<uint16_t>(EspDrop::kAuthFailed));
  }
}

}  // namespace
}  // namespace mipvpn
