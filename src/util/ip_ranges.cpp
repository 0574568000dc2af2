#include "util/ip_ranges.hpp"

namespace igb::util {

namespace {

bool local_or_private_v4(const boost::asio::ip::address_v4& a) {
  const std::uint32_t x = a.to_uint();
  return (x >> 24) == 127 || (x >> 24) == 10 || (x & 0xFFF00000u) == 0xAC100000u /* 172.16/12 */ ||
         (x & 0xFFFF0000u) == 0xC0A80000u /* 192.168/16 */ || (x & 0xFFFF0000u) == 0xA9FE0000u /* 169.254/16 */ ||
         (x & 0xFFC00000u) == 0x64400000u /* 100.64/10 */;
}

}  // namespace

bool is_local_or_private(const boost::asio::ip::address& address) {
  if (address.is_v4()) return local_or_private_v4(address.to_v4());
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return local_or_private_v4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
  const auto b = v6.to_bytes();
  return v6.is_loopback() || v6.is_link_local() || (b[0] & 0xFE) == 0xFC /* fc00::/7 */;
}

}  // namespace igb::util
