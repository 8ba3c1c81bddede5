/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenarios register and binding-lookup: the home agent's control path
 * and the data plane's binding lookups, one core, no reference peer.
 *
 * register: authenticated Registration Requests (NAI + MN-HA HMAC-MD5)
 * from --nodes distinct mobile nodes through HomeAgent::process_request:
 * parse, verify, replay check, binding published, reply built and signed.
 * Round 1 creates the bindings, later rounds renew them (a new record per
 * registration either way). Requests are built and signed before the
 * timer starts (each round needs fresh Identifications).
 *
 * binding-lookup: --nodes bindings; lookup_bulk of --burst random home
 * addresses at a time, then one read of each record's first care-of
 * entry (what a worker needs to encapsulate), --packets lookups a round.
 */
#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "bench.h"
#include "ha/home_agent.h"
#include "tsc.h"

namespace mipvpn::bench {
namespace {

constexpr uint32_t kHomeBase = 0x0a000001;  /* 10.0.0.1 + i */

uint64_t ntp_now(uint64_t unix_s, uint32_t frac) { return mip_ntp_from_unix(unix_s, frac); }

Result reg(const Options& o, double hz) {
  const uint64_t n = o.nodes;
  HaConfig cfg;
  cfg.addresses = {Ipv4Addr(192, 0, 2, 1)};
  cfg.max_lifetime = 1800;
  cfg.max_bindings = static_cast<uint32_t>(n + 1);
  HomeAgent ha(cfg, static_cast<uint32_t>(n));
  MipSa sa;
  sa.spi = 0x1000;
  std::vector<std::byte> key(16);
  for (size_t i = 0; i < key.size(); ++i) key[i] = std::byte(0x40 + i);
  std::vector<MipSa> sas(n);
  for (uint64_t i = 0; i < n; ++i) {
    HaMobileNode mn;
    mn.home = Ipv4Addr(static_cast<uint32_t>(kHomeBase + i));
    mn.sa = sa;
    key[0] = std::byte(i);  /* a key per node */
    key[1] = std::byte(i >> 8);
    key[2] = std::byte(i >> 16);
    mn.sa.set_key(key);
    sas[i] = mn.sa;
    if (ha.add_mobile_node(mn) != MipError::kOk) throw std::runtime_error("add_mobile_node");
  }
  /* Requests in a random order of nodes, one per node per round. */
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  constexpr uint32_t kStride = 96;
  std::vector<std::byte> reqs(n * kStride);
  std::vector<uint16_t> lens(n);
  std::vector<std::byte> reply(256);
  MipHmacMd5 h;
  const uint64_t t0 = 1700000000;
  std::vector<double> cpp;
  uint32_t req_size = 0;
  uint64_t accepted = 0;
  for (uint32_t round = 0; round < o.rounds; ++round) {
    const uint64_t now = ntp_now(t0 + round, 0);
    for (uint64_t j = 0; j < n; ++j) {
      const uint32_t i = order[j];
      MipRequest rq;
      rq.lifetime = 600;
      rq.home_addr = Ipv4Addr(static_cast<uint32_t>(kHomeBase + i));
      rq.home_agent = cfg.addresses[0];
      rq.care_of = Ipv4Addr(198, 18, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i | 1));
      rq.id = now + j;  /* grows within and across rounds */
      MipMsgBuilder b(std::span<std::byte>(reqs).subspan(j * kStride, kStride));
      b.request(rq);
      b.add_nai("mn@example.org");
      mip_add_auth(b, h, sas[i]);
      if (b.error() != MipError::kOk) throw std::runtime_error("build request");
      lens[j] = static_cast<uint16_t>(b.size());
    }
    req_size = lens[0];
    RequestMeta m;
    m.src = Ipv4Addr(198, 18, 0, 1);
    m.src_port = 434;
    m.dst = cfg.addresses[0];
    m.now_ntp = ntp_now(t0 + round, 0x80000000u);
    uint64_t ok = 0;
    const uint64_t c0 = tsc_now();
    for (uint64_t j = 0; j < n; ++j) {
      const auto req = std::span<const std::byte>(reqs).subspan(j * kStride, lens[j]);
      const HaVerdict v = ha.process_request(req, m, reply);
      ok += v.reply && v.code == 0;
    }
    const uint64_t c1 = tsc_now();
    accepted += ok;
    if (ok != n) throw std::runtime_error("only " + std::to_string(ok) + " of " + std::to_string(n) +
                                          " registrations accepted");
    cpp.push_back(static_cast<double>(c1 - c0) / static_cast<double>(n));
  }
  Result r;
  r.scenario = o.scenario;
  r.cipher = "hmac-md5";
  r.size = req_size;
  r.packets = accepted;
  r.ours = make_figure(median(cpp), hz, req_size);
  r.nodes = n;
  r.bytes_per = static_cast<double>(ha.bindings().memory_bytes()) / ha.bindings().size();
  return r;
}

Result lookup(const Options& o, double hz) {
  const uint64_t n = o.nodes;
  Qsbr q;
  QsbrReclaimer rc(q);
  BindingTable t(rc, static_cast<uint32_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    Binding* b = t.alloc();
    if (!b) throw std::runtime_error("out of memory");
    b->home = Ipv4Addr(static_cast<uint32_t>(kHomeBase + i));
    b->ha = Ipv4Addr(192, 0, 2, 1);
    b->n_coa = 1;
    b->coa[0].care_of = Ipv4Addr(static_cast<uint32_t>(0xc6120000 + i));
    b->coa[0].peer = b->coa[0].care_of;
    if (!t.publish(b)) throw std::runtime_error("publish");
  }
  /* Fill the pool in order, then lookups in random order: a 1M table
   * lives in DRAM, a 1k one in L1/L2. */
  const uint64_t per_round = o.packets ? o.packets : 4000000;
  const uint32_t burst = std::min<uint32_t>(o.burst, BindingTable::kMaxBulk);
  std::vector<Ipv4Addr> keys(per_round);
  std::mt19937_64 rng(11);
  for (auto& k : keys) k = Ipv4Addr(static_cast<uint32_t>(kHomeBase + rng() % n));
  const uint32_t reader = q.reader_register();
  q.reader_online(reader);
  std::vector<double> cpp;
  uint64_t sink = 0, hits = 0;
  /* The worker's pipeline: prefetch slots of burst i + 2, look up burst
   * i + 1 (which prefetches its records), use the records of burst i. */
  const Binding* outs[2][BindingTable::kMaxBulk];
  const uint64_t nb = per_round / burst;
  for (uint32_t round = 0; round < o.rounds; ++round) {
    const uint64_t c0 = tsc_now();
    t.prefetch(&keys[0], burst);
    if (nb > 1) t.prefetch(&keys[burst], burst);
    hits += static_cast<uint64_t>(__builtin_popcountll(t.lookup_bulk(&keys[0], burst, outs[0])));
    for (uint64_t i = 0; i < nb; ++i) {
      if (i + 2 < nb) t.prefetch(&keys[(i + 2) * burst], burst);
      if (i + 1 < nb)
        hits += static_cast<uint64_t>(
            __builtin_popcountll(t.lookup_bulk(&keys[(i + 1) * burst], burst, outs[(i + 1) & 1])));
      const Binding** cur = outs[i & 1];
      for (uint32_t k = 0; k < burst; ++k)
        if (cur[k]) sink += cur[k]->coa[0].peer.host();
      q.quiescent(reader);
    }
    const uint64_t c1 = tsc_now();
    cpp.push_back(static_cast<double>(c1 - c0) / static_cast<double>(nb * burst));
  }
  q.reader_offline(reader);
  q.reader_unregister(reader);
  if (hits != per_round / burst * burst * o.rounds) throw std::runtime_error("lookup missed");
  asm volatile("" : : "r"(sink));
  Result r;
  r.scenario = o.scenario;
  r.cipher = "none";
  r.size = sizeof(Binding);
  r.packets = hits;
  r.ours = make_figure(median(cpp), hz, 0);
  r.nodes = n;
  r.bytes_per = static_cast<double>(t.memory_bytes()) / t.size();
  return r;
}

const Register kReg{{"register",
                     "authenticated RRQ -> binding -> signed RRP, one core (--nodes N mobile nodes)",
                     reg}};
const Register kLookup{{"binding-lookup",
                        "bulk binding lookups with prefetch, one core (--nodes N bindings)", lookup}};

}  // namespace
}  // namespace mipvpn::bench
