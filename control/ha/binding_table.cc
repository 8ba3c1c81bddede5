/* SPDX-License-Identifier: BSD-3-Clause */
#include "ha/binding_table.h"

#include <sys/mman.h>

#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

namespace mipvpn {

namespace {

constexpr size_t kHuge = size_t{2} << 20;
constexpr uint32_t kMinSlots = 64;

/* Zeroed memory; 2 MiB aligned and offered to THP when that big. */
void* big_alloc(size_t bytes) noexcept {
  const size_t align = bytes >= kHuge ? kHuge : 64;
  const size_t sz = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, sz);
  if (!p) return nullptr;
#ifdef MADV_HUGEPAGE
  if (align == kHuge) madvise(p, sz, MADV_HUGEPAGE);
#endif
  std::memset(p, 0, sz);
  return p;
}

inline void pf(const void* p) noexcept { __builtin_prefetch(p, 0, 3); }

}  // namespace

BindingTable::Slots* BindingTable::make_slots(uint32_t cap) noexcept {
  auto* s = static_cast<Slots*>(std::malloc(sizeof(Slots)));
  if (!s) return nullptr;
  s->bytes = size_t{cap} * sizeof(Slot);
  /* Zero bytes are a valid empty Slot (key 0, rec nullptr): std::atomic
   * of these types is lock-free with the object representation of T. */
  s->slot = static_cast<Slot*>(big_alloc(s->bytes));
  if (!s->slot) {
    std::free(s);
    return nullptr;
  }
  s->mask = cap - 1;
  return s;
}

void BindingTable::free_slots(void* p, void* ctx) noexcept {
  auto* s = static_cast<Slots*>(p);
  auto* t = static_cast<BindingTable*>(ctx);
  if (t) t->slot_bytes_ -= s->bytes;
  std::free(s->slot);
  std::free(s);
}

void BindingTable::free_record(void* p, void* ctx) noexcept {
  auto* t = static_cast<BindingTable*>(ctx);
  auto* f = static_cast<FreeRec*>(p);
  f->next = t->free_;
  t->free_ = f;
}

BindingTable::BindingTable(QsbrReclaimer& rc, uint32_t capacity_hint) : rc_(rc) {
  static_assert(std::atomic<uint32_t>::is_always_lock_free);
  static_assert(std::atomic<const Binding*>::is_always_lock_free);
  const uint32_t cap = std::bit_ceil(std::max<uint32_t>(kMinSlots, capacity_hint * 2 + 1));
  Slots* s = make_slots(cap);
  if (!s) throw std::bad_alloc();
  slot_bytes_ = s->bytes;
  slots_.store(s, std::memory_order_release);
}

BindingTable::~BindingTable() {
  /* The owner stops the readers first; retired items may point here. */
  rc_.drain();
  free_slots(slots_.load(std::memory_order_relaxed), nullptr);
  for (auto& [p, n] : chunks_) std::free(p);
}

size_t BindingTable::capacity() const noexcept {
  return size_t{slots_.load(std::memory_order_relaxed)->mask} + 1;
}

size_t BindingTable::memory_bytes() const noexcept { return slot_bytes_ + pool_bytes_; }

const Binding* BindingTable::lookup(Ipv4Addr home) const noexcept {
  const uint32_t k = home.host();
  const Slots* s = slots_.load(std::memory_order_acquire);
  for (uint32_t i = hash(k) & s->mask;; i = (i + 1) & s->mask) {
    const uint32_t sk = s->slot[i].key.load(std::memory_order_acquire);
    if (sk == k && k != 0) return s->slot[i].rec.load(std::memory_order_acquire);
    if (sk == 0) return nullptr;
  }
}

uint64_t BindingTable::lookup_bulk(const Ipv4Addr* homes, uint32_t n,
                                   const Binding** out) const noexcept {
  if (n > kMaxBulk) n = kMaxBulk;
  const Slots* s = slots_.load(std::memory_order_acquire);
  uint32_t idx[kMaxBulk];
  /* Stage 1: hash and prefetch every first slot. */
  for (uint32_t j = 0; j < n; ++j) {
    idx[j] = hash(homes[j].host()) & s->mask;
    pf(&s->slot[idx[j]]);
  }
  /* Stage 2: probe, and prefetch each record for the caller. */
  uint64_t hits = 0;
  for (uint32_t j = 0; j < n; ++j) {
    const uint32_t k = homes[j].host();
    const Binding* r = nullptr;
    for (uint32_t i = idx[j];; i = (i + 1) & s->mask) {
      const uint32_t sk = s->slot[i].key.load(std::memory_order_acquire);
      if (sk == k && k != 0) {
        r = s->slot[i].rec.load(std::memory_order_acquire);
        break;
      }
      if (sk == 0) break;
    }
    out[j] = r;
    if (r) {
      pf(r);
      hits |= uint64_t{1} << j;
    }
  }
  return hits;
}

bool BindingTable::grow_pool() noexcept {
  /* Chunks double from 64 records up to 2 MiB (16384 records). */
  const size_t recs = std::min<size_t>(kHuge / sizeof(Binding),
                                       std::max<size_t>(64, pool_records_));
  const size_t bytes = recs * sizeof(Binding);
  void* p = big_alloc(bytes);
  if (!p) return false;
  chunks_.emplace_back(p, bytes);
  pool_bytes_ += bytes;
  pool_records_ += recs;
  auto* b = static_cast<Binding*>(p);
  for (size_t i = recs; i-- > 0;) free_record(&b[i], this);
  return true;
}

Binding* BindingTable::alloc() noexcept {
  if (!free_) {
    rc_.reclaim();
    if (!free_ && !grow_pool()) return nullptr;
  }
  FreeRec* f = free_;
  free_ = f->next;
  return new (f) Binding();
}

void BindingTable::free_unpublished(Binding* b) noexcept { free_record(b, this); }

bool BindingTable::grow(uint32_t want_live) noexcept {
  const uint32_t cap = std::bit_ceil(std::max<uint32_t>(kMinSlots, want_live * 2 + 1));
  Slots* ns = make_slots(cap);
  if (!ns) return false;
  Slots* os = slots_.load(std::memory_order_relaxed);
  size_t used = 0;
  for (uint32_t i = 0; i <= os->mask; ++i) {
    const Binding* r = os->slot[i].rec.load(std::memory_order_relaxed);
    if (!r) continue;  /* empty or tombstone: dropped */
    const uint32_t k = os->slot[i].key.load(std::memory_order_relaxed);
    uint32_t j = hash(k) & ns->mask;
    while (ns->slot[j].key.load(std::memory_order_relaxed) != 0) j = (j + 1) & ns->mask;
    ns->slot[j].rec.store(r, std::memory_order_relaxed);
    ns->slot[j].key.store(k, std::memory_order_relaxed);
    ++used;
  }
  slot_bytes_ += ns->bytes;
  slots_.store(ns, std::memory_order_release);  /* publishes every slot above */
  rc_.retire(os, &BindingTable::free_slots, this);
  used_ = used;
  return true;
}

bool BindingTable::publish(Binding* b) noexcept {
  const uint32_t k = b->home.host();
  if (k == 0) return false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    Slots* s = slots_.load(std::memory_order_relaxed);
    uint32_t i = hash(k) & s->mask;
    for (;; i = (i + 1) & s->mask) {
      const uint32_t sk = s->slot[i].key.load(std::memory_order_relaxed);
      if (sk == k) {
        const Binding* old = s->slot[i].rec.load(std::memory_order_relaxed);
        s->slot[i].rec.store(b, std::memory_order_release);
        bump();
        if (old) {
          rc_.retire(const_cast<Binding*>(old), &BindingTable::free_record, this);
        } else {
          ++live_;  /* a tombstone of the same key revived */
        }
        return true;
      }
      if (sk == 0) break;
    }
    /* New key in empty slot i: keep the load factor at most 1/2. */
    if ((used_ + 1) * 2 > size_t{s->mask} + 1) {
      if (!grow(static_cast<uint32_t>(live_ + 1))) return false;
      continue;  /* probe the new array */
    }
    s->slot[i].rec.store(b, std::memory_order_relaxed);
    s->slot[i].key.store(k, std::memory_order_release);  /* publishes rec too */
    bump();
    ++used_;
    ++live_;
    return true;
  }
  return false;
}

bool BindingTable::remove(Ipv4Addr home) noexcept {
  const uint32_t k = home.host();
  if (k == 0) return false;
  Slots* s = slots_.load(std::memory_order_relaxed);
  for (uint32_t i = hash(k) & s->mask;; i = (i + 1) & s->mask) {
    const uint32_t sk = s->slot[i].key.load(std::memory_order_relaxed);
    if (sk == 0) return false;
    if (sk != k) continue;
    const Binding* old = s->slot[i].rec.load(std::memory_order_relaxed);
    if (!old) return false;
    s->slot[i].rec.store(nullptr, std::memory_order_release);
    bump();
    rc_.retire(const_cast<Binding*>(old), &BindingTable::free_record, this);
    --live_;
    return true;
  }
}

}  // namespace mipvpn
