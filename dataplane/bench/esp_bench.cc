/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenarios esp-outb and esp-inb: pre-built packets through our ESP engine
 * (esp_outb_process / esp_inb_process) on one core and, alternating in the
 * same run, the same payload lengths through raw IPsec-MB (esp_ref.h).
 *
 * Only the engine call (or the raw crypto call) is inside the timed
 * region. Restoring the input between rounds (the inner IPv4 header for
 * outbound, the whole ciphertext for inbound) is done before the timer
 * starts, for ours and the reference alike, so both see warm caches.
 */
#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench.h"
#include "codec/ipv4.h"
#include "crypto/esp.h"
#include "esp_ref.h"
#include "tsc.h"

namespace mipvpn::bench {
namespace {

constexpr uint32_t kHeadroom = 128;
constexpr uint32_t kTailroom = 128;
constexpr uint32_t kPool = 1024;  /* distinct packets cycled through */

struct Keys {
  std::vector<uint8_t> cipher, auth;
};

Keys make_keys(const EspSuite& s) {
  Keys k;
  for (unsigned i = 0; i < unsigned{s.key_len} + s.salt_len; ++i) k.cipher.push_back(static_cast<uint8_t>(0x11 * i + 1));
  for (unsigned i = 0; i < s.auth_key_len; ++i) k.auth.push_back(static_cast<uint8_t>(0xa5 ^ i));
  return k;
}

const EspSuite& suite_of(const Options& o) {
  const EspSuite* s = esp_suite_by_name(o.cipher);
  if (!s) throw std::runtime_error("unknown cipher '" + o.cipher + "'");
  return *s;
}

std::unique_ptr<EspSa> make_sa(const EspSuite& s, const Keys& k, EspDir dir) {
  EspSaConfig c;
  c.spi = 0x1001;
  c.dir = dir;
  c.suite = &s;
  c.cipher_key = k.cipher;
  c.auth_key = k.auth;
  c.tun_src = Ipv4Addr(192, 0, 2, 1);
  c.tun_dst = Ipv4Addr(198, 51, 100, 1);
  c.replay_window = 1024;
  std::string err;
  auto sa = EspSa::create(c, &err);
  if (!sa) throw std::runtime_error("SA: " + err);
  return sa;
}

/* Packet buffers with views; the inner packet is IPv4/UDP of `size` bytes. */
struct Pool {
  std::vector<std::byte> mem;
  std::vector<PktView> views;
  uint32_t stride = 0;

  Pool(uint32_t n, uint32_t size) : stride(kHeadroom + size + kTailroom) {
    mem.resize(size_t{n} * stride);
    views.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      PktView& v = views[i];
      v.buf = mem.data() + size_t{i} * stride;
      v.buf_len = stride;
      v.data_off = kHeadroom;
      v.data_len = size;
      std::byte* p = v.data();
      ipv4_build({p, size}, {.src = Ipv4Addr(10, 1, 0, 2), .dst = Ipv4Addr(10, 2, 0, 9),
                             .total_len = static_cast<uint16_t>(size), .id = static_cast<uint16_t>(i),
                             .proto = kIpProtoUdp, .ttl = 64});
      for (uint32_t b = kIpv4HdrLen; b < size; ++b) p[b] = std::byte(b * 7 + i);
    }
  }
};

uint32_t padded_payload(const EspSuite& s, uint32_t size) {
  const uint32_t b = s.block;
  return (size + 2 + b - 1) / b * b;
}

Result make_result(const Options& o, double hz, uint64_t packets, const std::vector<double>& ours,
                   const std::vector<double>& ref, std::string_view ref_name) {
  Result r;
  r.scenario = o.scenario;
  r.cipher = o.cipher;
  r.size = o.size;
  r.packets = packets * o.rounds;
  r.ours = make_figure(median(ours), hz, o.size);
  r.ref_name = std::string(ref_name);
  r.ref = make_figure(median(ref), hz, o.size);
  return r;
}

uint64_t default_packets(const Options& o) {
  if (o.packets) return o.packets;
  return o.size <= 256 ? 400000 : 100000;
}

Result esp_outb(const Options& o, double hz) {
  const EspSuite& s = suite_of(o);
  const Keys k = make_keys(s);
  std::string err;
  auto eng = EspEngine::create(&err);
  if (!eng) throw std::runtime_error("engine: " + err);
  auto raw = RawEsp::create(s, k.cipher, k.auth);
  const uint64_t packets = default_packets(o) / o.burst * o.burst;

  Pool pool(kPool, o.size);
  std::array<std::byte, kIpv4HdrLen> hdr[kPool];
  for (uint32_t i = 0; i < kPool; ++i) std::memcpy(hdr[i].data(), pool.views[i].data(), kIpv4HdrLen);
  const uint32_t plen = padded_payload(s, o.size);
  const uint32_t ref_stride = 8 + s.iv_len + plen + s.icv_len + 64;
  std::vector<uint8_t> ref_mem(size_t{kPool} * ref_stride, 0x5a);
  std::vector<uint8_t*> ref_bufs(kPool);
  for (uint32_t i = 0; i < kPool; ++i) ref_bufs[i] = ref_mem.data() + size_t{i} * ref_stride;

  std::vector<double> ours, ref;
  PktView* burst[kMaxBurst];
  for (uint32_t round = 0; round < o.rounds + 1; ++round) { /* round 0 warms up */
    auto sa = make_sa(s, k, EspDir::kOutbound);
    uint64_t cycles = 0;
    uint32_t at = 0;
    for (uint64_t done = 0; done < packets; done += o.burst) {
      for (uint16_t j = 0; j < o.burst; ++j) {
        PktView& v = pool.views[(at + j) % kPool];
        v.data_off = kHeadroom;
        v.data_len = o.size;
        std::memcpy(v.data(), hdr[(at + j) % kPool].data(), kIpv4HdrLen);
        burst[j] = &v;
      }
      const uint64_t t0 = tsc_now();
      const uint16_t good = esp_outb_process(*eng, *sa, burst, o.burst);
      cycles += tsc_now() - t0;
      if (good != o.burst)
        throw std::runtime_error(std::string("engine dropped a packet: ") +
                                 std::string(to_string(static_cast<EspDrop>(burst[good]->drop))));
      at = (at + o.burst) % kPool;
    }
    uint64_t ref_cycles = 0;
    at = 0;
    uint8_t* rb[kMaxBurst];
    for (uint64_t done = 0; done < packets; done += o.burst) {
      for (uint16_t j = 0; j < o.burst; ++j) rb[j] = ref_bufs[(at + j) % kPool];
      const uint64_t t0 = tsc_now();
      raw->encrypt_burst(rb, plen, o.burst);
      ref_cycles += tsc_now() - t0;
      at = (at + o.burst) % kPool;
    }
    if (round) {
      ours.push_back(static_cast<double>(cycles) / packets);
      ref.push_back(static_cast<double>(ref_cycles) / packets);
    }
  }
  return make_result(o, hz, packets, ours, ref, raw->name());
}

Result esp_inb(const Options& o, double hz) {
  const EspSuite& s = suite_of(o);
  const Keys k = make_keys(s);
  std::string err;
  auto eng = EspEngine::create(&err);
  if (!eng) throw std::runtime_error("engine: " + err);
  auto raw = RawEsp::create(s, k.cipher, k.auth);
  const uint64_t packets = default_packets(o) / o.burst * o.burst;

  /* Pristine ciphertexts: kPool packets with sequence numbers 1..kPool from
   * our outbound SA; the reference's from raw IPsec-MB. */
  Pool pool(kPool, o.size);
  {
    auto out = make_sa(s, k, EspDir::kOutbound);
    std::vector<PktView*> all(kPool);
    for (uint32_t i = 0; i < kPool; ++i) all[i] = &pool.views[i];
    for (uint32_t i = 0; i < kPool; i += o.burst) {
      const uint16_t n = static_cast<uint16_t>(std::min<uint32_t>(o.burst, kPool - i));
      if (esp_outb_process(*eng, *out, all.data() + i, n) != n) throw std::runtime_error("outbound setup failed");
    }
  }
  const std::vector<std::byte> pristine = pool.mem;
  const std::vector<PktView> pristine_views = pool.views;

  const uint32_t plen = padded_payload(s, o.size);
  const uint32_t ref_stride = 8 + s.iv_len + plen + s.icv_len + 64;
  std::vector<uint8_t> ref_mem(size_t{kPool} * ref_stride, 0x5a);
  std::vector<uint8_t*> ref_bufs(kPool);
  for (uint32_t i = 0; i < kPool; ++i) ref_bufs[i] = ref_mem.data() + size_t{i} * ref_stride;
  for (uint32_t i = 0; i < kPool; i += o.burst)
    raw->encrypt_burst(ref_bufs.data() + i, plen, static_cast<uint16_t>(std::min<uint32_t>(o.burst, kPool - i)));
  const std::vector<uint8_t> ref_pristine = ref_mem;

  std::vector<double> ours, ref;
  PktView* burst[kMaxBurst];
  uint8_t* rb[kMaxBurst];
  for (uint32_t round = 0; round < o.rounds + 1; ++round) {
    std::unique_ptr<EspSa> sa;
    uint64_t cycles = 0;
    uint32_t at = 0;
    for (uint64_t done = 0; done < packets; done += o.burst) {
      if (at == 0 || at + o.burst > kPool) {
        at = 0;
        sa = make_sa(s, k, EspDir::kInbound); /* fresh window for seq 1..kPool */
      }
      for (uint16_t j = 0; j < o.burst; ++j) {
        PktView& v = pool.views[at + j];
        v = pristine_views[at + j];
        std::memcpy(v.data(), pristine.data() + (v.data() - pool.mem.data()), v.data_len);
        burst[j] = &v;
      }
      const uint64_t t0 = tsc_now();
      const uint16_t good = esp_inb_process(*eng, *sa, burst, o.burst);
      cycles += tsc_now() - t0;
      if (good != o.burst)
        throw std::runtime_error(std::string("engine dropped a packet: ") +
                                 std::string(to_string(static_cast<EspDrop>(burst[good]->drop))));
      at += o.burst;
    }
    uint64_t ref_cycles = 0;
    at = 0;
    for (uint64_t done = 0; done < packets; done += o.burst) {
      if (at + o.burst > kPool) at = 0;
      for (uint16_t j = 0; j < o.burst; ++j) {
        rb[j] = ref_bufs[at + j];
        std::memcpy(rb[j], ref_pristine.data() + size_t{at + j} * ref_stride, ref_stride);
      }
      const uint64_t t0 = tsc_now();
      const uint16_t good = raw->decrypt_burst(rb, plen, o.burst);
      ref_cycles += tsc_now() - t0;
      if (good != o.burst) throw std::runtime_error("reference ICV check failed");
      at += o.burst;
    }
    if (round) {
      ours.push_back(static_cast<double>(cycles) / packets);
      ref.push_back(static_cast<double>(ref_cycles) / packets);
    }
  }
  return make_result(o, hz, packets, ours, ref, raw->name());
}

const Register kOutb{{"esp-outb", "ESP tunnel-mode encryption (our engine vs raw IPsec-MB)", esp_outb}};
const Register kInb{{"esp-inb", "ESP tunnel-mode decryption with anti-replay (our engine vs raw IPsec-MB)", esp_inb}};

}  // namespace
}  // namespace mipvpn::bench
