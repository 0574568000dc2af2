#pragma once
// Which network an IP address belongs to, for the checks that keep tokens off the open internet
// (config: plain http:// only to this host or its private network) and keep provider URLs off it
// (gen/url_fetch: image URLs only from public addresses).
#include <boost/asio/ip/address.hpp>

namespace igb::util {

// This host or its private network: loopback, RFC 1918, shared (100.64/10), link-local, unique-local
// (fc00::/7), and IPv4-mapped forms of these.
bool is_local_or_private(const boost::asio::ip::address& address);

}  // namespace igb::util
