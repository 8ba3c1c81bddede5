/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one place where an rte_mbuf becomes a PktView (codec/pkt.h) and
 * back. Single-segment mbufs only (the caller drops chains first). Every
 * assumption about the mbuf layout is checked here at compile time.
 * Internal to dataplane/runtime: nothing outside it includes rte_*.h.
 */
#pragma once

#include <rte_mbuf.h>

#include <type_traits>

#include "codec/pkt.h"

namespace mipvpn {

/* PktView's window is (buf, buf_len, data_off, data_len); an mbuf segment
 * is (buf_addr, buf_len, data_off, data_len) with the same meaning. */
static_assert(std::is_same_v<decltype(rte_mbuf::buf_addr), void*>);
static_assert(std::is_same_v<decltype(rte_mbuf::buf_len), uint16_t>);
static_assert(std::is_same_v<decltype(rte_mbuf::data_off), uint16_t>);
static_assert(std::is_same_v<decltype(rte_mbuf::data_len), uint16_t>);
static_assert(std::is_same_v<decltype(rte_mbuf::pkt_len), uint32_t>);
static_assert(std::is_same_v<decltype(rte_mbuf::nb_segs), uint16_t>);
static_assert(std::is_same_v<decltype(rte_mbuf::port), uint16_t>);
static_assert(std::is_same_v<decltype(rte_mbuf::packet_type), uint32_t>);
/* The 16-bit mbuf fields always fit PktView's 32-bit ones. */
static_assert(sizeof(PktView::buf_len) >= sizeof(uint16_t));
static_assert(sizeof(PktView::data_off) >= sizeof(uint16_t));
static_assert(sizeof(PktView::data_len) >= sizeof(uint16_t));
/* An Ethernet header fits the default headroom, with room to spare for the
 * encapsulations the stages add in front (RFC 5265 triple: 20+8+20+...). */
static_assert(RTE_PKTMBUF_HEADROOM >= 128);
/* Pointer-array bursts are handed to PMDs as they are. */
static_assert(alignof(rte_mbuf) >= alignof(void*));

/* Punted packets carry their kind in packet_type (set by the worker). */
inline constexpr uint32_t kPuntTypeArp = RTE_PTYPE_L2_ETHER_ARP;
inline constexpr uint32_t kPuntTypeIpv4 = RTE_PTYPE_L3_IPV4;

/* Expects nb_segs == 1. drop = 0, user = 0. */
inline PktView mbuf_to_view(const rte_mbuf* m) noexcept {
  PktView v;
  v.buf = static_cast<std::byte*>(m->buf_addr);
  v.buf_len = m->buf_len;
  v.data_off = m->data_off;
  v.data_len = m->data_len;
  return v;
}

/* Write a (moved, grown or shrunk) window back. A stage never leaves
 * the buffer (data_off + data_len <= buf_len <= 65535). */
inline void view_to_mbuf(const PktView& v, rte_mbuf* m) noexcept {
  m->data_off = static_cast<uint16_t>(v.data_off);
  m->data_len = static_cast<uint16_t>(v.data_len);
  m->pkt_len = v.data_len;
}

}  // namespace mipvpn
