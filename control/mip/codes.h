/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mobile IPv4 registration reply codes and the reasons our registration
 * codec refuses a message.
 *
 * Reply codes (the Code field of a Registration Reply, RFC 5944 3.4):
 *   0, 1       accepted (1: simultaneous bindings unsupported);
 *   64..127    denied by the foreign agent (RFC 5944 3.4, RFC 3024 for
 *              74, 75, 76 and 79);
 *   128..191   denied by the home agent: 128..136 RFC 5944 3.4, 137..139
 *              reverse tunnelling (RFC 3024), 142 UDP tunnelling
 *              (RFC 3519).
 * The RFC 3024 and RFC 3519 numbers were checked against the IANA
 * "Mobile IPv4 Numbers" names as Wireshark 4.0 (`tshark -G values`,
 * field mip.code) prints them, not against the RFC text itself (not
 * retrievable here). 143 there is "register with redirected HA", which
 * is RFC 4433 (dynamic HA assignment), not RFC 3519: not listed here.
 */
#pragma once

#include <cstdint>
#include <string_view>

namespace mipvpn {

enum class MipReplyCode : uint8_t {
  kAccepted = 0,                    /* registration accepted */
  kAcceptedNoSimultaneous = 1,      /* accepted, simultaneous bindings unsupported */

  /* Denied by the foreign agent (RFC 5944 3.4). */
  kFaUnspecified = 64,
  kFaAdminProhibited = 65,
  kFaInsufficientResources = 66,
  kFaMnFailedAuth = 67,
  kFaHaFailedAuth = 68,
  kFaLifetimeTooLong = 69,
  kFaPoorlyFormedRequest = 70,
  kFaPoorlyFormedReply = 71,
  kFaEncapUnavailable = 72,
  kFaReservedUnavailable = 73,      /* was VJ compression (RFC 2002) */
  kFaReverseTunnelUnavailable = 74, /* RFC 3024 */
  kFaReverseTunnelMandatory = 75,   /* RFC 3024: reverse tunnel mandatory, T not set */
  kFaMnTooDistant = 76,             /* RFC 3024 */
  kFaInvalidCareOf = 77,
  kFaRegistrationTimeout = 78,
  kFaDeliveryStyleUnsupported = 79, /* RFC 3024 */
  kFaHomeNetUnreachable = 80,
  kFaHaHostUnreachable = 81,
  kFaHaPortUnreachable = 82,
  kFaHaUnreachable = 88,

  /* Denied by the home agent (RFC 5944 3.4). */
  kHaUnspecified = 128,
  kHaAdminProhibited = 129,
  kHaInsufficientResources = 130,
  kHaMnFailedAuth = 131,
  kHaFaFailedAuth = 132,
  kHaIdMismatch = 133,              /* replay protection, RFC 5944 5.7 */
  kHaPoorlyFormedRequest = 134,
  kHaTooManyBindings = 135,
  kHaUnknownHaAddress = 136,
  kHaReverseTunnelUnavailable = 137, /* RFC 3024 */
  kHaReverseTunnelMandatory = 138,   /* RFC 3024: reverse tunnel mandatory, T not set */
  kHaEncapUnavailable = 139,         /* RFC 3024: requested encapsulation unavailable */
  kHaUdpEncapUnavailable = 142,      /* RFC 3519 */
};

/* RFC 5944 3.4: 0 and 1 are the two "accepted" codes. */
constexpr bool mip_code_accepted(uint8_t code) noexcept { return code <= 1; }
constexpr bool mip_code_from_fa(uint8_t code) noexcept { return code >= 64 && code < 128; }
constexpr bool mip_code_from_ha(uint8_t code) noexcept { return code >= 128 && code < 192; }

constexpr std::string_view to_string(MipReplyCode c) noexcept {
  switch (c) {
    case MipReplyCode::kAccepted: return "accepted";
    case MipReplyCode::kAcceptedNoSimultaneous: return "accepted_no_simultaneous_bindings";
    case MipReplyCode::kFaUnspecified: return "fa_reason_unspecified";
    case MipReplyCode::kFaAdminProhibited: return "fa_administratively_prohibited";
    case MipReplyCode::kFaInsufficientResources: return "fa_insufficient_resources";
    case MipReplyCode::kFaMnFailedAuth: return "fa_mn_failed_authentication";
    case MipReplyCode::kFaHaFailedAuth: return "fa_ha_failed_authentication";
    case MipReplyCode::kFaLifetimeTooLong: return "fa_requested_lifetime_too_long";
    case MipReplyCode::kFaPoorlyFormedRequest: return "fa_poorly_formed_request";
    case MipReplyCode::kFaPoorlyFormedReply: return "fa_poorly_formed_reply";
    case MipReplyCode::kFaEncapUnavailable: return "fa_requested_encapsulation_unavailable";
    case MipReplyCode::kFaReservedUnavailable: return "fa_reserved_and_unavailable";
    case MipReplyCode::kFaReverseTunnelUnavailable: return "fa_reverse_tunnel_unavailable";
    case MipReplyCode::kFaReverseTunnelMandatory: return "fa_reverse_tunnel_mandatory_t_not_set";
    case MipReplyCode::kFaMnTooDistant: return "fa_mobile_node_too_distant";
    case MipReplyCode::kFaInvalidCareOf: return "fa_invalid_care_of_address";
    case MipReplyCode::kFaRegistrationTimeout: return "fa_registration_timeout";
    case MipReplyCode::kFaDeliveryStyleUnsupported: return "fa_delivery_style_not_supported";
    case MipReplyCode::kFaHomeNetUnreachable: return "fa_home_network_unreachable";
    case MipReplyCode::kFaHaHostUnreachable: return "fa_ha_host_unreachable";
    case MipReplyCode::kFaHaPortUnreachable: return "fa_ha_port_unreachable";
    case MipReplyCode::kFaHaUnreachable: return "fa_ha_unreachable";
    case MipReplyCode::kHaUnspecified: return "ha_reason_unspecified";
    case MipReplyCode::kHaAdminProhibited: return "ha_administratively_prohibited";
    case MipReplyCode::kHaInsufficientResources: return "ha_insufficient_resources";
    case MipReplyCode::kHaMnFailedAuth: return "ha_mn_failed_authentication";
    case MipReplyCode::kHaFaFailedAuth: return "ha_fa_failed_authentication";
    case MipReplyCode::kHaIdMismatch: return "ha_identification_mismatch";
    case MipReplyCode::kHaPoorlyFormedRequest: return "ha_poorly_formed_request";
    case MipReplyCode::kHaTooManyBindings: return "ha_too_many_simultaneous_bindings";
    case MipReplyCode::kHaUnknownHaAddress: return "ha_unknown_ha_address";
    case MipReplyCode::kHaReverseTunnelUnavailable: return "ha_reverse_tunnel_unavailable";
    case MipReplyCode::kHaReverseTunnelMandatory: return "ha_reverse_tunnel_mandatory_t_not_set";
    case MipReplyCode::kHaEncapUnavailable: return "ha_requested_encapsulation_unavailable";
    case MipReplyCode::kHaUdpEncapUnavailable: return "ha_udp_encapsulation_unavailable";
  }
  return "unknown";
}

/* Codes of the UDP Tunnel Reply extension (RFC 3519 3.2; values as
 * Wireshark 4.0 names them, field mip.ext.utrp.code). */
enum class MipUdpTunnelCode : uint8_t {
  kWillTunnel = 0,       /* will do tunnelling */
  kDeclined = 64,        /* tunnelling declined, reason unspecified */
};

/*
 * Why the registration codec refused a message or could not build one.
 * Each value is one drop counter; mip_error_action() says what a home
 * agent does with a Registration Request refused for that reason.
 */
enum class MipError : uint8_t {
  kOk = 0,
  kTruncated,            /* shorter than the fixed part of its type */
  kBadType,              /* first byte is not the message type asked for */
  kExtTruncated,         /* the message ends inside an extension (RFC 5944: 134) */
  kUnknownNonSkippable,  /* unknown extension type 0..127: discard silently (RFC 5944 1.8) */
  kBadExtLength,         /* a recognised extension's length does not fit its format */
  kDuplicateExt,         /* a recognised extension that may appear once appears twice */
  kTooBig,               /* message over 65535 bytes */
  kNoRoom,               /* builder: the buffer is too small */
  kNoFixedPart,          /* builder: an extension before request()/reply() */
  kKeyEmpty,             /* security association: no key */
  kKeyTooLong,           /* key over 64 bytes: would need plain MD5 first (RFC 2104 2) */
  kBadSpi,               /* SPI 0..255 is reserved (RFC 5944 1.6) */
  kBadAlgorithm,         /* authentication algorithm not supported */
  kCryptoInit,           /* IPsec-MB manager could not be allocated */
  kAuthMissing,          /* no Mobile-Home Authentication extension */
  kAuthSpiMismatch,      /* its SPI is not the security association's */
  kAuthBadLength,        /* authenticator length not the algorithm's (16) */
  kAuthFailed,           /* authenticator does not verify */
  kCount,
};

constexpr std::string_view to_string(MipError e) noexcept {
  switch (e) {
    case MipError::kOk: return "ok";
    case MipError::kTruncated: return "truncated";
    case MipError::kBadType: return "bad_type";
    case MipError::kExtTruncated: return "ext_truncated";
    case MipError::kUnknownNonSkippable: return "unknown_non_skippable";
    case MipError::kBadExtLength: return "bad_ext_length";
    case MipError::kDuplicateExt: return "duplicate_ext";
    case MipError::kTooBig: return "too_big";
    case MipError::kNoRoom: return "no_room";
    case MipError::kNoFixedPart: return "no_fixed_part";
    case MipError::kKeyEmpty: return "key_empty";
    case MipError::kKeyTooLong: return "key_too_long";
    case MipError::kBadSpi: return "bad_spi";
    case MipError::kBadAlgorithm: return "bad_algorithm";
    case MipError::kCryptoInit: return "crypto_init";
    case MipError::kAuthMissing: return "auth_missing";
    case MipError::kAuthSpiMismatch: return "auth_spi_mismatch";
    case MipError::kAuthBadLength: return "auth_bad_length";
    case MipError::kAuthFailed: return "auth_failed";
    case MipError::kCount: break;
  }
  return "unknown";
}

/* What a home agent does with a Registration Request that failed so. */
enum class MipAction : uint8_t {
  kProcess,         /* no error */
  kDiscard,         /* silently discard: no reply */
  kReply,           /* reply with mip_error_reply_code() */
};

constexpr MipAction mip_error_action(MipError e) noexcept {
  switch (e) {
    case MipError::kOk: return MipAction::kProcess;
    /* Too short to hold the home address and identification a reply
     * needs, not a request at all, or RFC 5944 1.8 silent discard. */
    case MipError::kTruncated:
    case MipError::kBadType:
    case MipError::kTooBig:
    case MipError::kUnknownNonSkippable:
      return MipAction::kDiscard;
    default:
      return MipAction::kReply;
  }
}

/* The reply code for an error whose action is kReply. */
constexpr MipReplyCode mip_error_reply_code(MipError e) noexcept {
  switch (e) {
    case MipError::kExtTruncated:
    case MipError::kBadExtLength:
    case MipError::kDuplicateExt:
      return MipReplyCode::kHaPoorlyFormedRequest;   /* 134 */
    case MipError::kAuthMissing:
    case MipError::kAuthSpiMismatch:
    case MipError::kAuthBadLength:
    case MipError::kAuthFailed:
      return MipReplyCode::kHaMnFailedAuth;          /* 131 */
    default:
      return MipReplyCode::kHaUnspecified;           /* 128 */
  }
}

}  // namespace mipvpn
