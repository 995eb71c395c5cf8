#include "api/client_address.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include "api/list_text.hpp"

namespace users::api {
namespace ip = boost::asio::ip;

namespace {

// A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; an operator
// writes 10.0.0.0/8 and means them too.
ip::address unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::optional<ip::address> parse_address(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  boost::system::error_code ec;
  const auto address = ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return unmapped(address);
}

}  // namespace

boost::system::result<TrustedProxies, std::string> TrustedProxies::parse(std::string_view setting) {
  TrustedProxies proxies;
  std::optional<std::string> error;
  for_each_list_element(setting, [&](std::string_view entry) {
    boost::system::error_code ec;
    if (entry.find('/') == std::string_view::npos) {
      if (const auto address = parse_address(entry)) {
        if (address->is_v4()) proxies.v4_.emplace_back(address->to_v4(), 32);
        if (address->is_v6()) proxies.v6_.emplace_back(address->to_v6(), 128);
        return true;
      }
    } else if (const auto v4 = ip::make_network_v4(entry, ec); !ec) {
      proxies.v4_.push_back(v4.canonical());
      return true;
    } else if (const auto v6 = ip::make_network_v6(entry, ec); !ec) {
      proxies.v6_.push_back(v6.canonical());
      return true;
    }
    error = fmt::format("\"{}\" is not an IP address or a CIDR such as 10.0.0.0/8 or fd00::/8", entry);
    return false;
  });
  if (error) return *error;
  return proxies;
}

bool TrustedProxies::contains(const ip::address& address) const {
  const auto plain = unmapped(address);
  if (plain.is_v4()) {
    return std::ranges::any_of(v4_, [&](const ip::network_v4& network) {
      return ip::network_v4(plain.to_v4(), network.prefix_length()).canonical() == network;
    });
  }
  return std::ranges::any_of(v6_, [&](const ip::network_v6& network) {
    return ip::network_v6(plain.to_v6(), network.prefix_length()).canonical() == network;
  });
}

std::optional<ip::address> peer_address(std::string_view peer) {
  // The port follows the last colon, with or without brackets around an IPv6
  // address (http/wire.cpp writes none).
  const auto colon = peer.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return parse_address(peer.substr(0, colon));
}

std::string client_address(std::string_view peer, std::span<const std::string_view> forwarded_for,
                           const TrustedProxies& trusted) {
  const auto from_peer = peer_address(peer);
  if (!from_peer) return std::string(peer);
  ip::address client = *from_peer;
  if (!trusted.contains(client)) return client.to_string();
  // Right to left over the lines, then over each line's hops.
  for (std::size_t line = forwarded_for.size(); line-- > 0;) {
    std::string_view rest = forwarded_for[line];
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      const auto hop = trim_blanks(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      if (hop.empty()) continue;  // an empty list element (RFC 9110 5.6.1)
      const auto address = parse_address(hop);
      if (!address) return client.to_string();
      client = *address;
      if (!trusted.contains(client)) return client.to_string();
    }
  }
  return client.to_string();
}

}  // namespace users::api
