/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mobility bindings as the data plane reads them: home address -> the
 * care-of address(es) to tunnel to (RFC 5944 3.8.3, 4.2.3), with the
 * encapsulation chosen at registration time (IP-in-IP, RFC 2003, or UDP,
 * RFC 3519) and whether the mobile node asked for a reverse tunnel
 * (T bit, RFC 3024).
 *
 * Readers (workers) use lookup() / lookup_bulk() with no lock and no
 * atomic read-modify-write; one writer (the control thread) inserts,
 * replaces and removes. A Binding record is immutable once published: a
 * change is a new record stored with a release store, the old one is
 * retired to the QSBR reclaimer (control/qsbr.h) and reused only after
 * every reader passed a quiescent state. A resize builds a new slot array,
 * publishes it and retires the old one the same way.
 *
 * Layout: open addressing with linear probing over 16-byte slots
 * {key, record pointer}, load factor at most 1/2 (tombstones included).
 * A slot's key is written once per array (before its pointer, release);
 * a removed binding leaves its key with a null pointer (a tombstone that
 * only the same key reuses), so a reader never sees a key paired with
 * another key's record. Home address 0.0.0.0 is never a key.
 *
 * Records come from a pool of 2 MiB chunks (transparent huge pages where
 * the kernel gives them) with a free list: no allocation per update once
 * the pool has grown. Memory: 128 bytes per record (two cache lines; the
 * first holds the home address and the first care-of address, all a
 * single-binding lookup touches) + 16 bytes / load factor per slot;
 * memory_bytes() counts both.
 */
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/hash.h"
#include "codec/ipv4_addr.h"
#include "qsbr.h"

namespace mipvpn {

/* How the home agent tunnels to one care-of address. */
enum class BindingEncap : uint8_t {
  kIpIp = 0,  /* RFC 2003 IP in IP to the care-of address */
  kUdp = 1,   /* RFC 3519: IP in IP inside UDP to the NAT's address and port */
};

inline constexpr uint8_t kBindReverseTunnel = 0x01;  /* T bit (RFC 3024) */
inline constexpr uint8_t kBindInfinite = 0x02;       /* lifetime 0xffff: never expires */
inline constexpr uint8_t kBindDecapByMn = 0x04;      /* D bit: co-located care-of address */
inline constexpr uint8_t kBindOperator = 0x08;       /* made by the operator (mipvpnctl), not a registration */

/* One care-of address of a binding. 16 bytes. */
struct BindingCoa {
  Ipv4Addr care_of;
  /* Outer destination: the care-of address (IP-in-IP), or the request's
   * IP source for UDP tunnelling (the NAT's public address, RFC 3519). */
  Ipv4Addr peer;
  uint16_t peer_port = 0;  /* UDP: the request's source port; 0 for IP-in-IP */
  BindingEncap encap = BindingEncap::kIpIp;
  uint8_t flags = 0;       /* kBind* */
  uint32_t expires_s = 0;  /* home agent clock, NTP seconds (32-bit, compare by signed difference) */

  bool reverse_tunnel() const noexcept { return flags & kBindReverseTunnel; }
  bool infinite() const noexcept { return flags & kBindInfinite; }
};
static_assert(sizeof(BindingCoa) == 16);

/* An immutable record: never written after it is published. */
struct alignas(64) Binding {
  static constexpr uint32_t kMaxCoa = 4;  /* simultaneous bindings (S bit) */

  Ipv4Addr home;
  Ipv4Addr ha;               /* our address: the outer source */
  uint16_t keepalive_s = 0;  /* RFC 3519 keepalive interval granted (UDP entries) */
  uint8_t n_coa = 0;         /* 1..kMaxCoa; the data plane duplicates to each */
  uint8_t reserved = 0;
  uint32_t reserved2 = 0;
  BindingCoa coa[kMaxCoa];

  /* The entry for care_of, or -1. */
  int find(Ipv4Addr care_of) const noexcept {
    for (int i = 0; i < n_coa; ++i)
      if (coa[i].care_of == care_of) return i;
    return -1;
  }
};
static_assert(sizeof(Binding) == 128);

class BindingTable {
 public:
  static constexpr uint32_t kMaxBulk = 64;

  /* capacity_hint: bindings expected (sizes the first arrays). */
  explicit BindingTable(QsbrReclaimer& rc, uint32_t capacity_hint = 1024);
  ~BindingTable();
  BindingTable(const BindingTable&) = delete;
  BindingTable& operator=(const BindingTable&) = delete;

  /* ---- readers: no lock; a pointer stays valid until the reader's next
   * quiescent state (Qsbr::quiescent) ---- */
  const Binding* lookup(Ipv4Addr home) const noexcept;
  /*
   * n (<= kMaxBulk) lookups at once, prefetching each slot and then each
   * record before it is needed (as rte_hash_lookup_bulk). out[i] is the
   * record or nullptr; returns the bit mask of hits.
   */
  uint64_t lookup_bulk(const Ipv4Addr* homes, uint32_t n, const Binding** out) const noexcept;
  /* Bumped (release) after every change a lookup can see: a record
   * published, replaced or removed. A reader that keeps lookup results
   * across bursts (stages/dst_memo.h) compares it once per burst (acquire);
   * the records it kept stay valid until its next quiescent state, as any
   * lookup result does. */
  uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  /* Prefetch the first slot of each key: a worker calls it for burst
   * i + 1 before lookup_bulk of burst i, and uses the records of burst
   * i - 1 after, so that three bursts of memory accesses overlap. */
  void prefetch(const Ipv4Addr* homes, uint32_t n) const noexcept {
    const Slots* s = slots_.load(std::memory_order_acquire);
    for (uint32_t j = 0; j < n; ++j) __builtin_prefetch(&s->slot[hash(homes[j].host()) & s->mask], 0, 3);
  }

  /* ---- writer: one thread ---- */
  /* A zeroed record from the pool to fill and publish; nullptr when the
   * memory cannot grow. */
  Binding* alloc() noexcept;
  /* Give back a record that was never published. */
  void free_unpublished(Binding* b) noexcept;
  /* Insert b (b->home != 0) or replace the record of b->home; the old one
   * is retired. false (b not taken: free it) if the arrays cannot grow. */
  bool publish(Binding* b) noexcept;
  /* Remove home's binding; false if none. */
  bool remove(Ipv4Addr home) noexcept;
  /* Free retired records and arrays that no reader can hold any more. */
  size_t reclaim() noexcept { return rc_.reclaim(); }

  size_t size() const noexcept { return live_; }
  size_t capacity() const noexcept;
  /* Bytes held: slot arrays in use + record pool (published, free and retired). */
  size_t memory_bytes() const noexcept;
  size_t pool_records() const noexcept { return pool_records_; }

  /* Visit every live record (writer thread). */
  template <class F>
  void for_each(F&& f) const {
    const Slots* s = slots_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i <= s->mask; ++i)
      if (const Binding* b = s->slot[i].rec.load(std::memory_order_relaxed)) f(*b);
  }

 private:
  struct Slot {
    std::atomic<uint32_t> key;  /* home address (host order); 0 = empty */
    uint32_t pad;
    std::atomic<const Binding*> rec;  /* nullptr: tombstone (key kept) */
  };
  static_assert(sizeof(Slot) == 16);
  struct Slots {
    uint32_t mask;
    size_t bytes;
    Slot* slot;
  };

  /* Home addresses are often consecutive: fmix32 spreads them. */
  static uint32_t hash(uint32_t k) noexcept { return fmix32(k); }
  static Slots* make_slots(uint32_t cap) noexcept;
  static void free_slots(void* s, void* ctx) noexcept;
  static void free_record(void* b, void* ctx) noexcept;
  bool grow(uint32_t want_live) noexcept;
  bool grow_pool() noexcept;

  void bump() noexcept { version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  QsbrReclaimer& rc_;
  std::atomic<Slots*> slots_;
  std::atomic<uint64_t> version_{0};
  size_t used_ = 0;   /* slots with a key (live + tombstones) */
  size_t live_ = 0;
  size_t slot_bytes_ = 0;  /* of the arrays allocated (current + retired) */

  /* Record pool: chunks and an intrusive free list. */
  struct FreeRec {
    FreeRec* next;
  };
  FreeRec* free_ = nullptr;
  std::vector<std::pair<void*, size_t>> chunks_;
  size_t pool_bytes_ = 0;
  size_t pool_records_ = 0;
};

}  // namespace mipvpn
