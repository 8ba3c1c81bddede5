/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Why the stages refused a packet, and the per-worker counters. Every
 * StageDrop value is one named counter (to_string gives its name); the
 * ESP engine's own reasons (EspDrop) are counted beside them, per
 * direction. Plain uint64 arrays: one Pipeline (one worker) writes them,
 * the control thread reads them for telemetry (torn reads of a counter
 * are acceptable there).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/error.h"
#include "crypto/esp.h"

namespace mipvpn {

enum class StageDrop : uint16_t {
  kNone = 0,
  kTruncated,        /* fewer bytes than a header or its length says */
  kBadHeader,        /* IPv4 version / IHL / length invalid */
  kBadChecksum,      /* IPv4 header or UDP checksum wrong */
  kFragment,         /* a fragment addressed to us: no reassembly (see below) */
  kBadTunnel,        /* RFC 3519 tunnel header / ports / next header invalid */
  kBadInner,         /* inner datagram of a tunnel invalid */
  kBadSpi,           /* ESP SPI 0..255 (RFC 4303 2.1) */
  kUnknownSpi,       /* no inbound SA with this SPI */
  kNattKeepalive,    /* RFC 3948 2.3 keepalive: dropped quietly, counted */
  kEspInbound,       /* the ESP engine refused it: see esp_inb_drops */
  kEspOutbound,      /* the ESP engine refused it: see esp_outb_drops */
  kPolicyMismatch,   /* RFC 4301 5.2 step 4: inner source outside the SA's selector */
  kNoBinding,        /* decap: inner source has no binding (RFC 3024, RFC 5944 4.2.3) */
  kCoaMismatch,      /* decap: binding's care-of / peer is not the outer source (and port) */
  kTunnelLoop,       /* RFC 2003 3.2: inner source is a tunnel endpoint */
  kNoRoute,          /* no route to the destination */
  kTtlExceeded,      /* TTL <= 1 on forwarding and no ICMP time exceeded could be sent (stages/icmp.h) */
  kTooBig,           /* larger than the output port's MTU: DF clear (we do not fragment), or no
                      * ICMP fragmentation needed could be sent (stages/icmp.h) */
  kNoHeadroom,       /* no room in the buffer for the outer headers */
  kLoop,             /* still being re-classified after kMaxPasses passes */
  kUnprotected,      /* RFC 4301 5.1, 5.2: clear traffic from an external port for the protected side */
  kLocalIcmp,        /* ICMP to one of our addresses other than an echo request we answer */
  kLocalOther,       /* anything else to one of our addresses */
  kCount,
};

/*
 * Fragments and sizes, what this slice chose:
 * - Fragments addressed to us (registration or IKE in pieces, tunnel
 *   packets in pieces) are refused as kFragment: no reassembly. Bounded
 *   reassembly would need buffers held across bursts, which the Pipeline
 *   contract (the runtime frees or sends every packet of a burst) does
 *   not give. Registration requests and RFC 3519 tunnel packets are well
 *   under any MTU; tunnel senders that fragment the outer datagram (RFC
 *   2003 5.1 allows it) are not served. Fragments passing through are
 *   forwarded (and tunnelled) as they are.
 * - A datagram too big for its output port once our tunnels are added is
 *   not fragmented either (that needs a second buffer per fragment): with
 *   DF set the sender gets ICMP fragmentation needed with the tunnel MTU
 *   (RFC 2003 5.1, RFC 1191), so path MTU discovery works through the
 *   tunnels; with DF clear it is dropped as kTooBig.
 */
constexpr std::string_view to_string(StageDrop d) noexcept {
  switch (d) {
    case StageDrop::kNone: return "none";
    case StageDrop::kTruncated: return "truncated";
    case StageDrop::kBadHeader: return "bad_header";
    case StageDrop::kBadChecksum: return "bad_checksum";
    case StageDrop::kFragment: return "fragment";
    case StageDrop::kBadTunnel: return "bad_tunnel";
    case StageDrop::kBadInner: return "bad_inner";
    case StageDrop::kBadSpi: return "bad_spi";
    case StageDrop::kUnknownSpi: return "unknown_spi";
    case StageDrop::kNattKeepalive: return "natt_keepalive";
    case StageDrop::kEspInbound: return "esp_inbound";
    case StageDrop::kEspOutbound: return "esp_outbound";
    case StageDrop::kPolicyMismatch: return "policy_mismatch";
    case StageDrop::kNoBinding: return "no_binding";
    case StageDrop::kCoaMismatch: return "coa_mismatch";
    case StageDrop::kTunnelLoop: return "tunnel_loop";
    case StageDrop::kNoRoute: return "no_route";
    case StageDrop::kTtlExceeded: return "ttl_exceeded";
    case StageDrop::kTooBig: return "too_big";
    case StageDrop::kNoHeadroom: return "no_headroom";
    case StageDrop::kLoop: return "loop";
    case StageDrop::kUnprotected: return "unprotected";
    case StageDrop::kLocalIcmp: return "local_icmp";
    case StageDrop::kLocalOther: return "local_other";
    case StageDrop::kCount: break;
  }
  return "unknown";
}

/* A codec's refusal as a stage drop reason. */
constexpr StageDrop stage_drop(CodecError e) noexcept {
  switch (e) {
    case CodecError::kOk: return StageDrop::kNone;
    case CodecError::kTruncated: return StageDrop::kTruncated;
    case CodecError::kBadChecksum: return StageDrop::kBadChecksum;
    case CodecError::kFragment: return StageDrop::kFragment;
    case CodecError::kBadProtocol:
    case CodecError::kBadNextHeader:
    case CodecError::kBadTunnelHeader:
    case CodecError::kBadPort: return StageDrop::kBadTunnel;
    case CodecError::kBadInner: return StageDrop::kBadInner;
    case CodecError::kTtlExpired: return StageDrop::kTtlExceeded;
    case CodecError::kBadSpi: return StageDrop::kBadSpi;
    case CodecError::kNoRoom: return StageDrop::kNoHeadroom;
    case CodecError::kTooBig: return StageDrop::kTooBig;
    case CodecError::kTunnelLoop: return StageDrop::kTunnelLoop;
    case CodecError::kNatKeepalive: return StageDrop::kNattKeepalive;
    default: return StageDrop::kBadHeader;
  }
}

/* The stages, for per-stage packet counts (packets a stage passed on).
 * The ICMP helpers count the packets they turned into echo replies and
 * errors, and the errors the rate limit withheld (those packets are
 * dropped with the reason that provoked them). */
enum class Stage : uint8_t {
  kXmipDecap,
  kEspInbound,
  kImipDecap,
  kImipEncap,
  kEspOutbound,
  kXmipEncap,
  kForward,
  kPunt,
  kIcmpEchoReply,
  kIcmpError,
  kIcmpSuppressed,
  kCount,
};

constexpr std::string_view to_string(Stage s) noexcept {
  switch (s) {
    case Stage::kXmipDecap: return "xmip_decap";
    case Stage::kEspInbound: return "esp_inb";
    case Stage::kImipDecap: return "imip_decap";
    case Stage::kImipEncap: return "imip_encap";
    case Stage::kEspOutbound: return "esp_outb";
    case Stage::kXmipEncap: return "xmip_encap";
    case Stage::kForward: return "forward";
    case Stage::kPunt: return "punt";
    case Stage::kIcmpEchoReply: return "icmp_echo_replies";
    case Stage::kIcmpError: return "icmp_errors_sent";
    case Stage::kIcmpSuppressed: return "icmp_errors_suppressed";
    case Stage::kCount: break;
  }
  return "unknown";
}

struct StageCounters {
  uint64_t rx = 0;
  uint64_t drops[static_cast<size_t>(StageDrop::kCount)] = {};
  uint64_t stage[static_cast<size_t>(Stage::kCount)] = {};
  uint64_t esp_inb_drops[static_cast<size_t>(EspDrop::kCount)] = {};
  uint64_t esp_outb_drops[static_cast<size_t>(EspDrop::kCount)] = {};

  uint64_t drop(StageDrop d) const noexcept { return drops[static_cast<size_t>(d)]; }
  uint64_t passed(Stage s) const noexcept { return stage[static_cast<size_t>(s)]; }
  uint64_t esp_inb(EspDrop d) const noexcept { return esp_inb_drops[static_cast<size_t>(d)]; }
  uint64_t esp_outb(EspDrop d) const noexcept { return esp_outb_drops[static_cast<size_t>(d)]; }
};

}  // namespace mipvpn
