/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mobile IPv4 registration messages: the UDP/434 payloads of type 1
 * (Registration Request, RFC 5944 3.3) and 3 (Registration Reply, RFC
 * 5944 3.4), and their extensions (RFC 5944 1.8-1.11, 3.5).
 *
 * Request, fixed part (24 bytes):
 *    0                   1                   2                   3
 *   |     Type=1    |S|B|D|M|G|r|T|x|          Lifetime             |
 *   |                          Home Address                         |
 *   |                           Home Agent                          |
 *   |                        Care-of Address                        |
 *   +                         Identification (64)                   +
 *   | Extensions ...
 * Reply, fixed part (20 bytes):
 *   |     Type=3    |     Code      |           Lifetime            |
 *   |                          Home Address                         |
 *   |                           Home Agent                          |
 *   +                         Identification (64)                   +
 *   | Extensions ...
 * r and x are sent as zero and ignored on reception (RFC 5944 3.3); we
 * report them as seen and build them as given. T asks for a reverse
 * tunnel (RFC 3024). Lifetime 0 deregisters, 0xffff is infinite.
 *
 * Extensions (RFC 5944 1.8): types 0..127 are non-skippable, 128..255
 * skippable. A receiver that meets a non-skippable extension it does not
 * know MUST silently discard the whole message; an unknown skippable one
 * is ignored. Formats: type-length (1.9: Type, Length, Data; Length
 * counts the bytes after itself), short (1.11: Type, Length, Sub-Type,
 * Data; the sub-type is counted in Length) and long (1.10: Type,
 * Sub-Type, 16-bit Length; only for non-skippable types). Every
 * extension recognised here is type-length or short; no long-format
 * type is recognised, so a long-format extension is always an unknown
 * non-skippable one and its length never has to be read.
 *
 * Recognised:
 *   32  Mobile-Home Authentication (RFC 5944 3.5.2): SPI(4), authenticator
 *   33  Mobile-Foreign Authentication (3.5.3), 34 Foreign-Home (3.5.4): same
 *   44  UDP Tunnel Reply (RFC 3519 3.2), short format, length 6
 *   131 Mobile Node NAI (RFC 2794), type-length, length >= 1
 *   137 Revocation Support (RFC 3543 3.2), length 6: I flag, timestamp
 *   144 UDP Tunnel Request (RFC 3519 3.1), short format, length 6
 *   149 Trusted Networks Configured (RFC 5265 3.4), short format: length
 *       2, sub-type 0, reserved (sent 0, ignored). Only sub-type 0 with
 *       length 2 means TNC; another 149 is skipped like any unknown
 *       skippable extension (it can only ever cost a TNC, never grant one).
 *
 * No allocation, no exceptions; nothing is read or written outside the
 * spans given. Authentication is in mip/auth.h, replay in mip/replay.h.
 */
#pragma once

#include <cstdint>
#include <string_view>

#include "codec/endian.h"
#include "codec/ipv4_addr.h"
#include "codec/mip_tunnel.h"  /* kMipTypeRegRequest, kMipTypeRegReply */
#include "mip/codes.h"

namespace mipvpn {

/* A result: a value or the reason there is none (Parsed<T> with MipError). */
template <class T>
class MipParsed {
 public:
  constexpr MipParsed(T v) : v_(v), err_(MipError::kOk) {}  // NOLINT: implicit by design
  constexpr MipParsed(MipError e) : v_{}, err_(e) {}        // NOLINT
  constexpr bool ok() const noexcept { return err_ == MipError::kOk; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  constexpr MipError error() const noexcept { return err_; }
  constexpr const T& value() const noexcept { return v_; }
  constexpr const T* operator->() const noexcept { return &v_; }
  constexpr const T& operator*() const noexcept { return v_; }

 private:
  T v_;
  MipError err_;
};

inline constexpr uint16_t kMipRequestLen = 24;
inline constexpr uint16_t kMipReplyLen = 20;
inline constexpr uint16_t kMipLifetimeInfinite = 0xffff;

/* RFC 5944 3.3 flag bits of the request's second byte. */
inline constexpr uint8_t kMipFlagS = 0x80;  /* simultaneous bindings */
inline constexpr uint8_t kMipFlagB = 0x40;  /* broadcast datagrams */
inline constexpr uint8_t kMipFlagD = 0x20;  /* decapsulation by the MN (co-located CoA) */
inline constexpr uint8_t kMipFlagM = 0x10;  /* minimal encapsulation */
inline constexpr uint8_t kMipFlagG = 0x08;  /* GRE encapsulation */
inline constexpr uint8_t kMipFlagR = 0x04;  /* r: reserved, sent 0 (was V, RFC 2002) */
inline constexpr uint8_t kMipFlagT = 0x02;  /* reverse tunnelling requested, RFC 3024 */
inline constexpr uint8_t kMipFlagX = 0x01;  /* x: reserved, sent 0 */

/* Extension types. */
inline constexpr uint8_t kMipExtMnHaAuth = 32;     /* RFC 5944 3.5.2 */
inline constexpr uint8_t kMipExtMnFaAuth = 33;     /* RFC 5944 3.5.3 */
inline constexpr uint8_t kMipExtFaHaAuth = 34;     /* RFC 5944 3.5.4 */
inline constexpr uint8_t kMipExtUdpTunReply = 44;  /* RFC 3519 3.2 */
inline constexpr uint8_t kMipExtNai = 131;         /* RFC 2794 */
inline constexpr uint8_t kMipExtRevSupport = 137;  /* RFC 3543 */
inline constexpr uint8_t kMipExtUdpTunReq = 144;   /* RFC 3519 3.1 */
inline constexpr uint8_t kMipExtTnc = 149;         /* RFC 5265 3.4 */

inline constexpr uint8_t kMipAuthSpiLen = 4;
/* RFC 3519 3.1, 3.2: both UDP tunnel extensions have Length 6. */
inline constexpr uint8_t kMipUdpTunExtLen = 6;
inline constexpr uint8_t kMipRevSupportLen = 6;
inline constexpr uint8_t kMipTncLen = 2;

/* RFC 5944 1.8: an extension type below 128 must be understood. */
constexpr bool mip_ext_skippable(uint8_t type) noexcept { return type >= 128; }

/* Wire layouts. */
struct MipRequestHdr {
  uint8_t type;
  uint8_t flags;
  be16 lifetime;
  be32 home_addr;
  be32 home_agent;
  be32 care_of;
  be32 id_hi;
  be32 id_lo;
};
static_assert(sizeof(MipRequestHdr) == kMipRequestLen);

struct MipReplyHdr {
  uint8_t type;
  uint8_t code;
  be16 lifetime;
  be32 home_addr;
  be32 home_agent;
  be32 id_hi;
  be32 id_lo;
};
static_assert(sizeof(MipReplyHdr) == kMipReplyLen);

/* A Registration Request's fixed part, host order. */
struct MipRequest {
  bool s = false, b = false, d = false, m = false, g = false;
  bool r = false;  /* reserved: build false; seen as received */
  bool t = false;
  bool x = false;  /* reserved: build false; seen as received */
  uint16_t lifetime = 0;
  Ipv4Addr home_addr;
  Ipv4Addr home_agent;
  Ipv4Addr care_of;
  uint64_t id = 0;  /* Identification: replay protection, mip/replay.h */

  uint8_t flags() const noexcept;
  friend bool operator==(const MipRequest&, const MipRequest&) = default;
};

/* A Registration Reply's fixed part, host order. */
struct MipReply {
  uint8_t code = 0;  /* MipReplyCode; any value is carried */
  uint16_t lifetime = 0;
  Ipv4Addr home_addr;
  Ipv4Addr home_agent;
  uint64_t id = 0;
  friend bool operator==(const MipReply&, const MipReply&) = default;
};

/*
 * Fixed parts. Errors: kTruncated (fewer bytes than the fixed part),
 * kBadType (first byte not 1 / 3), kTooBig (over 65535 bytes). Bytes
 * after the fixed part are the extensions (mip_scan_extensions).
 */
MipParsed<MipRequest> mip_parse_request(cbytes msg) noexcept;
MipParsed<MipReply> mip_parse_reply(cbytes msg) noexcept;

/* 24 or 20 for the message type in msg[0]; 0 for any other / empty. */
uint16_t mip_fixed_len(cbytes msg) noexcept;

/* ---- extensions ---- */

enum class MipExtFormat : uint8_t {
  kTypeLength,  /* RFC 5944 1.9 */
  kShort,       /* RFC 5944 1.11: a sub-type first in the data */
};

/* One extension as the walker saw it. */
struct MipExt {
  uint8_t type = 0;
  MipExtFormat format = MipExtFormat::kTypeLength;
  bool known = false;         /* one of the types recognised above */
  bool has_sub_type = false;  /* short format with Length >= 1 */
  uint8_t sub_type = 0;
  uint32_t offset = 0;        /* of the Type byte, from the message start */
  uint8_t length = 0;         /* the Length field */
  cbytes data;                /* the Length bytes after the Length field */

  uint32_t end() const noexcept { return offset + 2u + length; }
};

/*
 * Walk the extensions of msg from byte first (the fixed part's length):
 *
 *   MipExtWalker w(msg, kMipRequestLen);
 *   for (MipExt e; w.next(&e);) { ... }
 *   if (w.error() != MipError::kOk) ...
 *
 * next() yields every extension in order, unknown skippable ones too
 * (known == false: a caller skips them, RFC 5944 1.8), and stops with:
 *   kOk                  at the end of the message, all bytes consumed;
 *   kUnknownNonSkippable an unknown type 0..127 (*e holds its type and
 *                        offset): discard the message silently;
 *   kExtTruncated        the type, length or data runs past the end (a
 *                        home agent answers 134).
 * It does not judge a recognised extension's length: mip_scan_extensions does.
 */
class MipExtWalker {
 public:
  MipExtWalker(cbytes msg, uint32_t first) noexcept : msg_(msg), off_(first) {}
  bool next(MipExt* e) noexcept;
  MipError error() const noexcept { return err_; }
  uint32_t offset() const noexcept { return off_; }

 private:
  cbytes msg_;
  uint32_t off_;
  MipError err_ = MipError::kOk;
  bool done_ = false;
};

/* 32, 33, 34: RFC 5944 3.5.2-3.5.4. */
struct MipAuthExt {
  bool present = false;
  uint32_t offset = 0;    /* of its Type byte */
  uint32_t spi = 0;
  cbytes authenticator;   /* Length - 4 bytes */
  /* RFC 5944 3.5.1: the authenticator covers bytes [0, covered_len()):
   * the message, all prior extensions, and this one's Type, Length, SPI. */
  uint32_t covered_len() const noexcept { return offset + 2u + kMipAuthSpiLen; }
};

/* 144: RFC 3519 3.1. Sub-Type, Reserved 1, F|R|Reserved 2 (6 bits),
 * Encapsulation, Reserved 3 (16). */
struct MipUdpTunnelReq {
  uint8_t sub_type = 0;
  uint8_t reserved1 = 0;
  bool f = false;          /* force UDP tunnelling */
  bool r = false;          /* registration through the FA required */
  uint8_t reserved2 = 0;   /* low 6 bits of the flags byte */
  uint8_t encap = kMipNextIpv4;  /* 4 IP-in-IP, 47 GRE, 55 minimal */
  uint16_t reserved3 = 0;
  friend bool operator==(const MipUdpTunnelReq&, const MipUdpTunnelReq&) = default;
};
inline constexpr uint8_t kMipUdpTunReqF = 0x80;
inline constexpr uint8_t kMipUdpTunReqR = 0x40;

/* 44: RFC 3519 3.2. Sub-Type, Reply Code, F|Reserved (15 bits),
 * Keepalive Interval (seconds). */
struct MipUdpTunnelRep {
  uint8_t sub_type = 0;
  uint8_t code = 0;         /* MipUdpTunnelCode */
  bool f = false;           /* the HA forces UDP tunnelling */
  uint16_t reserved = 0;    /* low 15 bits */
  uint16_t keepalive = 0;   /* seconds */
  friend bool operator==(const MipUdpTunnelRep&, const MipUdpTunnelRep&) = default;
};
inline constexpr uint16_t kMipUdpTunRepF = 0x8000;

/* 137: RFC 3543 3.2. Flags (I bit, 15 reserved), Timestamp (32). */
struct MipRevSupport {
  bool i = false;           /* the agent supports the I (inform) bit */
  uint16_t reserved = 0;
  uint32_t timestamp = 0;
  friend bool operator==(const MipRevSupport&, const MipRevSupport&) = default;
};
inline constexpr uint16_t kMipRevSupportI = 0x8000;

/* What the extensions of one message hold: the first of each recognised
 * type (duplicates are refused) and where it lies. Its spans point into
 * the message: valid as long as the message bytes are. */
struct MipExts {
  uint16_t count = 0;          /* all extensions, skipped ones too */
  uint16_t skipped = 0;        /* unknown skippable ones (and non-TNC 149s) */
  MipAuthExt mn_ha;            /* 32 */
  MipAuthExt mn_fa;            /* 33 */
  MipAuthExt fa_ha;            /* 34 */
  bool has_nai = false;
  cbytes nai;                  /* 131, RFC 2794: the NAI's bytes */
  bool has_udp_tun_req = false;
  MipUdpTunnelReq udp_tun_req; /* 144 */
  bool has_udp_tun_rep = false;
  MipUdpTunnelRep udp_tun_rep; /* 44 */
  bool has_rev_support = false;
  MipRevSupport rev_support;   /* 137 */
  /* RFC 5265 3.4: a 149 with length 2 and sub-type 0 somewhere. */
  bool tnc = false;
  uint32_t tnc_offset = 0;     /* the first such one */
  /*
   * The TNC lies before the Mobile-Home Authentication extension, so
   * its authenticator covers it (RFC 5944 3.5.1). Bytes after the
   * authenticator are anyone's (CONFORMANCE.md): a TNC there never
   * counts. The authenticator itself must still verify
   * (mip_authenticated_tnc in mip/auth.h does both).
   */
  bool tnc_before_auth = false;
};

/*
 * Walk and interpret the extensions after the fixed part of msg (its
 * type chosen by msg[0]). Errors: those of the fixed part, of the
 * walker, kBadExtLength (an authentication extension shorter than its
 * SPI, a UDP tunnel or revocation support extension whose length is
 * not 6, an empty NAI) and kDuplicateExt (a second 32, 33, 34, 44, 131,
 * 137 or 144). mip_error_action() tells discard from reply 134.
 */
MipParsed<MipExts> mip_scan_extensions(cbytes msg) noexcept;

/* The extension [ext_offset, ext_end) lies wholly before the MN-HA
 * authentication extension, so its authenticator covers it. */
constexpr bool mip_covered_by_mn_ha(const MipExts& x, uint32_t ext_end) noexcept {
  return x.mn_ha.present && ext_end <= x.mn_ha.offset;
}

/* ---- builder ---- */

/*
 * Builds a message into buf: the fixed part first, then extensions in
 * the order added. The first error sticks: later calls do nothing and
 * return it, so a caller may check once at the end.
 *
 *   MipMsgBuilder b(buf);
 *   b.request(rq); b.add_nai("mn@example.com"); b.add_udp_tunnel_request({});
 *   mip_add_mn_ha_auth(b, hmac, sa);   // mip/auth.h: last, signs the rest
 *   if (b.error() != MipError::kOk) ...; send(b.msg());
 */
class MipMsgBuilder {
 public:
  explicit MipMsgBuilder(bytes buf) noexcept : buf_(buf) {}

  MipError request(const MipRequest& r) noexcept;
  MipError reply(const MipReply& r) noexcept;

  MipError add_nai(std::string_view nai) noexcept;
  MipError add_udp_tunnel_request(const MipUdpTunnelReq& r) noexcept;
  MipError add_udp_tunnel_reply(const MipUdpTunnelRep& r) noexcept;
  MipError add_revocation_support(const MipRevSupport& r) noexcept;
  /* RFC 5265 3.4; sub_type other than 0 only for tests. */
  MipError add_tnc(uint8_t sub_type = 0) noexcept;
  /* An authentication extension (32, 33, 34) with the authenticator
   * given; mip/auth.h computes one. */
  MipError add_auth(uint8_t type, uint32_t spi, cbytes authenticator) noexcept;
  /* Any type-length extension (short format: the sub-type first in data). */
  MipError add_raw(uint8_t type, cbytes data) noexcept;

  MipError error() const noexcept { return err_; }
  uint32_t size() const noexcept { return len_; }
  cbytes msg() const noexcept { return cbytes(buf_).first(len_); }
  bytes msg_mut() noexcept { return buf_.first(len_); }
  /* Offset of the Type byte of the last extension added. */
  uint32_t last_ext_offset() const noexcept { return last_ext_; }

 private:
  /* Append Type, Length and room for len data bytes; nullptr on error. */
  std::byte* ext(uint8_t type, size_t len) noexcept;

  bytes buf_;
  uint32_t len_ = 0;
  uint32_t last_ext_ = 0;
  MipError err_ = MipError::kOk;
  bool fixed_ = false;
};

}  // namespace mipvpn
