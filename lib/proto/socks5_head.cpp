#include "proto/socks5_head.hpp"

#include "proto/errors.hpp"

namespace hc::proto::socks5 {

Head read_head(std::span<const std::uint8_t, kHeadSize> head) {
  Head h;
  h.version = head[0];
  h.code = head[1];
  // ATYP and the first address octet: enough for decode_address to know the total length.
  const auto partial = decode_address(head.subspan<kAddressOffset>());
  h.address_ec = partial.ec;
  if (!partial.ec) {
    h.size = kAddressOffset + partial.needed;
  }
  return h;
}

DecodedAddress read_message_address(std::span<const std::uint8_t> message) {
  if (message.size() < kAddressOffset) {
    DecodedAddress none;
    none.ec = Socks5Error::bad_address_type;
    return none;
  }
  auto decoded = decode_address(message.subspan(kAddressOffset));
  if (!decoded.ec && decoded.consumed != message.size() - kAddressOffset) {
    decoded.ec = Socks5Error::bad_address_type;
  }
  return decoded;
}

}  // namespace hc::proto::socks5
