// Who sent a request: the socket's peer, or, behind proxies the operator
// trusts (TRUSTED_PROXIES), the client those proxies saw. The answer keys the
// anonymous throttle and the access log's `client`, so a client must never be
// able to choose it: only hops added by a trusted proxy are believed.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace users::api {

class TrustedProxies {
 public:
  TrustedProxies() = default;  // trusts no one: the peer is always the client

  // TRUSTED_PROXIES: comma-separated CIDRs ("10.0.0.0/8", "fd00::/8") or single
  // addresses, IPv4 or IPv6; blanks around entries are ignored. The error names
  // the first entry that is neither.
  static boost::system::result<TrustedProxies, std::string> parse(std::string_view setting);

  [[nodiscard]] bool contains(const boost::asio::ip::address& address) const;
  [[nodiscard]] bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

// The address of http::RequestInfo::peer ("192.0.2.1:5000", "::1:5000", or
// "[::1]:5000"), without its port; nullopt when it holds none ("unknown").
// An IPv4-mapped IPv6 address (a dual-stack socket) comes back as IPv4.
std::optional<boost::asio::ip::address> peer_address(std::string_view peer);

// The client's address as text, without a port. `forwarded_for` holds every
// X-Forwarded-For field line of the request, in the order received (each
// proxy appends the address it saw, so the right-most hops are the nearest).
//
// - The peer is not trusted: the peer, whatever X-Forwarded-For says.
// - The peer is trusted: walk the hops right to left and answer the first one
//   that is not trusted.
// - Every hop is trusted: the left-most hop (still an address the operator
//   vouches for).
// - A hop that is not an address ("unknown", "1.2.3.4:80", garbage) ends the
//   walk: the answer is the last address reached before it (the hop to its
//   right, or the peer). Whatever lies left of it was written by no proxy we
//   can vouch for, so skipping over it would let a client pick its address.
// A peer that holds no address is returned as it is.
std::string client_address(std::string_view peer, std::span<const std::string_view> forwarded_for,
                           const TrustedProxies& trusted);

}  // namespace users::api
