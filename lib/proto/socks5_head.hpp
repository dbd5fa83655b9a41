/// The start shared by the two SOCKS5 messages that name an address (RFC 1928 §4, §6): a request
/// (VER CMD RSV ATYP DST.ADDR DST.PORT) and a reply (VER REP RSV ATYP BND.ADDR BND.PORT). The
/// client codec reads replies with it, the server codec requests.
///
/// Both are read in two exact reads, so no byte that follows the message is consumed: the head,
/// VER CODE RSV ATYP and the first address octet (a domain's length), which tells the message's
/// full length; then the rest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "proto/socks5_address.hpp"

namespace hc::proto::socks5 {

/// VER CODE RSV ATYP and the first address octet.
inline constexpr std::size_t kHeadSize = 5;
/// Where ATYP sits in the message.
inline constexpr std::size_t kAddressOffset = 3;

struct Head {
  std::uint8_t version = 0;
  std::uint8_t code = 0;       ///< CMD in a request, REP in a reply
  std::error_code address_ec;  ///< bad_address_type (unknown ATYP) or empty_domain
  std::size_t size = 0;        ///< the whole message's length, when address_ec is clear
};

/// Reads the head. RSV is not looked at: peers are known to send non-zero values there, and it
/// carries nothing. Checking VER and the code, and in which order, is the caller's business.
/// Without an address error, `size` is always more than kHeadSize (the port is still to come).
Head read_head(std::span<const std::uint8_t, kHeadSize> head);

/// Decodes ATYP ADDR PORT of a whole message of read_head(...).size bytes. A message that does
/// not end where its address does fails with bad_address_type.
DecodedAddress read_message_address(std::span<const std::uint8_t> message);

}  // namespace hc::proto::socks5
