/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP cache state machine (RFC 826, RFC 1122 2.3.2); see arp_cache.h.
 * A linear scan over at most kMaxEntries entries: this runs on the
 * control thread, only for next hops the published table does not know
 * and for ARP packets.
 */
#include "runtime/arp_cache.h"

#include <algorithm>

namespace mipvpn {

ArpCache::ArpCache(const ArpTimers& t) : t_(t), e_(kMaxEntries) {
  t_.retries = std::max<uint32_t>(t_.retries, 1);
  t_.hold = std::clamp<uint32_t>(t_.hold, 1, kMaxHold);
}

ArpCache::Entry* ArpCache::find_mut(Ipv4Addr ip) noexcept {
  for (Entry& e : e_)
    if (e.state != NeighState::kFree && e.ip == ip) return &e;
  return nullptr;
}

const ArpCache::Entry* ArpCache::find(Ipv4Addr ip) const noexcept {
  for (const Entry& e : e_)
    if (e.state != NeighState::kFree && e.ip == ip) return &e;
  return nullptr;
}

ArpCache::Entry* ArpCache::alloc(Ipv4Addr ip) noexcept {
  /* A free slot; else the learned or failed entry that expires first
   * (senders of requests for our addresses must not be able to lock new
   * next hops out); never a static one or one holding packets. */
  Entry* victim = nullptr;
  for (Entry& e : e_) {
    if (e.state == NeighState::kFree) {
      victim = &e;
      break;
    }
    const bool evictable = e.state == NeighState::kReachable || e.state == NeighState::kProbe ||
                           e.state == NeighState::kFailed;
    if (evictable && (!victim || e.deadline < victim->deadline)) victim = &e;
  }
  if (!victim) return nullptr;
  if (victim->state != NeighState::kFree) {
    ++stats_.evicted;
    dirty_ = true;
  }
  *victim = Entry{};
  victim->ip = ip;
  return victim;
}

bool ArpCache::add_static(Ipv4Addr ip, const MacAddr& mac) noexcept {
  Entry* e = find_mut(ip);
  if (!e) e = alloc(ip);
  if (!e) return false;
  e->mac = mac;
  e->state = NeighState::kStatic;
  dirty_ = true;
  return true;
}

void ArpCache::release_all(Entry& e, ArpSink& sink) noexcept {
  for (uint32_t i = 0; i < e.n_held; ++i) sink.arp_release(e.held[i], e.mac);
  stats_.released += e.n_held;
  e.n_held = 0;
}

void ArpCache::drop_all(Entry& e, RtDrop why, ArpSink& sink) noexcept {
  for (uint32_t i = 0; i < e.n_held; ++i) sink.arp_drop(e.held[i], why);
  e.n_held = 0;
}

ArpCache::Resolve ArpCache::resolve(Ipv4Addr ip, void* pkt, uint64_t now_ms,
                                    ArpSink& sink) noexcept {
  Entry* e = find_mut(ip);
  if (!e) {
    e = alloc(ip);
    if (!e) {
      sink.arp_drop(pkt, RtDrop::kArpTableFull);
      return Resolve::kDropped;
    }
    /* RFC 1122 2.3.2.2: hold the packet, send the first request now. */
    e->state = NeighState::kIncomplete;
    e->held[e->n_held++] = pkt;
    ++stats_.held;
    e->tries = 1;
    e->deadline = now_ms + t_.retry_ms;
    ++stats_.requests;
    sink.arp_request(ip, nullptr);
    return Resolve::kHeld;
  }
  switch (e->state) {
    case NeighState::kIncomplete:
      if (e->n_held >= t_.hold) {
        /* RFC 1122 2.3.2.2: keep the latest; the oldest held one goes. */
        sink.arp_drop(e->held[0], RtDrop::kArpQueueFull);
        for (uint32_t i = 1; i < e->n_held; ++i) e->held[i - 1] = e->held[i];
        --e->n_held;
      }
      e->held[e->n_held++] = pkt;
      ++stats_.held;
      return Resolve::kHeld;
    case NeighState::kFailed:
      sink.arp_drop(pkt, RtDrop::kNoNeighbour);
      return Resolve::kDropped;
    case NeighState::kStatic:
    case NeighState::kReachable:
    case NeighState::kProbe:
      /* Known since the worker read its table (or not published yet). */
      sink.arp_release(pkt, e->mac);
      return Resolve::kSent;
    case NeighState::kFree:
      break;
  }
  sink.arp_drop(pkt, RtDrop::kNoNeighbour);
  return Resolve::kDropped;
}

void ArpCache::learn(Ipv4Addr ip, const MacAddr& mac, bool for_us, uint64_t now_ms,
                     ArpSink& sink) noexcept {
  Entry* e = find_mut(ip);
  if (e && e->state == NeighState::kStatic) return; /* configuration wins */
  if (!e) {
    /* RFC 826: merge_flag false and we are the target: add the triplet. */
    if (!for_us) return;
    e = alloc(ip);
    if (!e) return;
    e->state = NeighState::kIncomplete; /* becomes reachable below */
  }
  const bool had_mac = e->state == NeighState::kReachable || e->state == NeighState::kProbe;
  if (!had_mac || !(e->mac == mac)) {
    ++stats_.learned;
    dirty_ = true;
  }
  if (e->state == NeighState::kFailed) dirty_ = true;
  e->mac = mac;
  e->state = NeighState::kReachable;
  e->tries = 0;
  e->deadline = now_ms + t_.reachable_ms;
  release_all(*e, sink);
}

void ArpCache::tick(uint64_t now_ms, ArpSink& sink) noexcept {
  for (Entry& e : e_) {
    if (e.state == NeighState::kFree || e.state == NeighState::kStatic || now_ms < e.deadline)
      continue;
    switch (e.state) {
      case NeighState::kIncomplete:
        if (e.tries < t_.retries) {
          ++e.tries;
          e.deadline = now_ms + t_.retry_ms;
          ++stats_.requests;
          sink.arp_request(e.ip, nullptr);
        } else {
          e.state = NeighState::kFailed;
          e.deadline = now_ms + t_.failed_ms;
          ++stats_.failed;
          drop_all(e, RtDrop::kNoNeighbour, sink);
          dirty_ = true;
        }
        break;
      case NeighState::kReachable:
        /* RFC 1122 2.3.2.1 (2): poll the known address first. */
        e.state = NeighState::kProbe;
        e.tries = 1;
        e.deadline = now_ms + t_.retry_ms;
        ++stats_.requests;
        sink.arp_request(e.ip, &e.mac);
        break;
      case NeighState::kProbe:
        if (e.tries < t_.retries) {
          ++e.tries;
          e.deadline = now_ms + t_.retry_ms;
          ++stats_.requests;
          sink.arp_request(e.ip, nullptr);
        } else {
          ++stats_.failed;
          e = Entry{};
          dirty_ = true;
        }
        break;
      case NeighState::kFailed:
        e = Entry{};
        dirty_ = true;
        break;
      case NeighState::kFree:
      case NeighState::kStatic:
        break;
    }
  }
}

void ArpCache::flush(ArpSink& sink) noexcept {
  for (Entry& e : e_) drop_all(e, RtDrop::kNoNeighbour, sink);
}

void ArpCache::fill(NeighbourTable& t) noexcept {
  for (const Entry& e : e_) {
    switch (e.state) {
      case NeighState::kStatic:
      case NeighState::kReachable:
      case NeighState::kProbe:
        /* Cannot fail below a quarter load in practice; if it did, the
         * workers would hand those packets to the control thread, which
         * sends them from here: slower, still right. */
        (void)t.add(e.ip, e.mac);
        break;
      case NeighState::kFailed:
        (void)t.add_failed(e.ip);
        break;
      case NeighState::kFree:
      case NeighState::kIncomplete:
        break;
    }
  }
  dirty_ = false;
}

}  // namespace mipvpn
