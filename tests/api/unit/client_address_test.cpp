#include "api/client_address.hpp"

#include <gtest/gtest.h>

#include <array>

namespace users::api {
namespace {

namespace ip = boost::asio::ip;

TrustedProxies trusting(std::string_view setting) {
  auto parsed = TrustedProxies::parse(setting);
  EXPECT_TRUE(parsed.has_value()) << setting << ": " << (parsed ? "" : parsed.error());
  return parsed ? *parsed : TrustedProxies();
}

TEST(TrustedProxies, ParsesCidrsAndSingleAddressesOfBothFamilies) {
  const auto proxies = trusting(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1,");
  EXPECT_FALSE(proxies.empty());
  EXPECT_TRUE(proxies.contains(ip::make_address("10.1.2.3")));
  EXPECT_TRUE(proxies.contains(ip::make_address("192.168.1.7")));
  EXPECT_FALSE(proxies.contains(ip::make_address("192.168.1.8")));
  EXPECT_FALSE(proxies.contains(ip::make_address("11.0.0.1")));
  EXPECT_TRUE(proxies.contains(ip::make_address("fd12:3456::1")));
  EXPECT_TRUE(proxies.contains(ip::make_address("::1")));
  EXPECT_FALSE(proxies.contains(ip::make_address("fe80::1")));
  EXPECT_FALSE(proxies.contains(ip::make_address("::2")));
}

TEST(TrustedProxies, ACidrWithHostBitsSetCoversItsWholeNetwork) {
  const auto proxies = trusting("172.16.5.4/12");
  EXPECT_TRUE(proxies.contains(ip::make_address("172.31.255.255")));
  EXPECT_FALSE(proxies.contains(ip::make_address("172.32.0.0")));
}

TEST(TrustedProxies, AnIpv4MappedPeerMatchesIpv4Entries) {
  const auto proxies = trusting("10.0.0.0/8");
  EXPECT_TRUE(proxies.contains(ip::make_address("::ffff:10.0.0.1")));
}

TEST(TrustedProxies, EmptyTrustsNoOne) {
  const auto proxies = trusting("");
  EXPECT_TRUE(proxies.empty());
  EXPECT_FALSE(proxies.contains(ip::make_address("127.0.0.1")));
}

TEST(TrustedProxies, ABadEntryIsAnErrorNamingIt) {
  for (const char* setting : {"10.0.0.0/33", "example.com", "10.0.0.0/8,10.0.0", "fd00::/129", "1.2.3.4/", "/8"}) {
    const auto parsed = TrustedProxies::parse(setting);
    ASSERT_FALSE(parsed.has_value()) << setting;
  }
  const auto parsed = TrustedProxies::parse("10.0.0.0/8, nope");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().find("\"nope\""), std::string::npos) << parsed.error();
}

TEST(PeerAddress, ReadsTheFormsTheServerWrites) {
  EXPECT_EQ(peer_address("192.0.2.1:5000"), ip::make_address("192.0.2.1"));
  EXPECT_EQ(peer_address("::1:5000"), ip::make_address("::1"));
  EXPECT_EQ(peer_address("[2001:db8::7]:443"), ip::make_address("2001:db8::7"));
  EXPECT_EQ(peer_address("::ffff:192.0.2.1:80"), ip::make_address("192.0.2.1"));
  EXPECT_EQ(peer_address("unknown"), std::nullopt);
  EXPECT_EQ(peer_address("nonsense:80"), std::nullopt);
}

std::string client(std::string_view peer, std::initializer_list<std::string_view> lines, std::string_view trusted) {
  const std::vector<std::string_view> forwarded(lines);
  return client_address(peer, forwarded, trusting(trusted));
}

TEST(ClientAddress, AnUntrustedPeerIsTheClientWhateverXForwardedForSays) {
  EXPECT_EQ(client("203.0.113.9:1234", {"198.51.100.1"}, ""), "203.0.113.9");
  EXPECT_EQ(client("203.0.113.9:1234", {"198.51.100.1"}, "10.0.0.0/8"), "203.0.113.9");
  EXPECT_EQ(client("203.0.113.9:1234", {}, "10.0.0.0/8"), "203.0.113.9");
}

TEST(ClientAddress, ATrustedPeerGivesTheRightMostUntrustedHop) {
  // A client sent "1.1.1.1" itself; the proxies appended what they saw.
  EXPECT_EQ(client("10.0.0.2:80", {"1.1.1.1, 198.51.100.7, 10.0.0.1"}, "10.0.0.0/8"), "198.51.100.7");
  EXPECT_EQ(client("10.0.0.2:80", {"198.51.100.7"}, "10.0.0.0/8"), "198.51.100.7");
}

TEST(ClientAddress, EveryFieldLineCountsInOrder) {
  EXPECT_EQ(client("10.0.0.2:80", {"1.1.1.1", "198.51.100.7, 10.0.0.1"}, "10.0.0.0/8"), "198.51.100.7");
  EXPECT_EQ(client("10.0.0.2:80", {"198.51.100.7", "10.0.0.3", ""}, "10.0.0.0/8"), "198.51.100.7");
  EXPECT_EQ(client("10.0.0.2:80", {"1.1.1.1,,", " 10.0.0.3 "}, "10.0.0.0/8"), "1.1.1.1");
}

TEST(ClientAddress, ATrustedPeerWithoutXForwardedForIsTheClient) {
  EXPECT_EQ(client("10.0.0.2:80", {}, "10.0.0.0/8"), "10.0.0.2");
}

TEST(ClientAddress, EveryHopTrustedGivesTheLeftMost) {
  EXPECT_EQ(client("10.0.0.2:80", {"10.0.0.9, 10.0.0.1"}, "10.0.0.0/8"), "10.0.0.9");
}

TEST(ClientAddress, AMalformedHopEndsTheWalkAtTheAddressRightOfIt) {
  EXPECT_EQ(client("10.0.0.2:80", {"1.1.1.1, unknown, 10.0.0.1"}, "10.0.0.0/8"), "10.0.0.1");
  EXPECT_EQ(client("10.0.0.2:80", {"1.1.1.1, 198.51.100.7:4000"}, "10.0.0.0/8"), "10.0.0.2");
  // An untrusted hop before the garbage is still found.
  EXPECT_EQ(client("10.0.0.2:80", {"garbage, 198.51.100.7"}, "10.0.0.0/8"), "198.51.100.7");
}

TEST(ClientAddress, Ipv6PeersAndHops) {
  EXPECT_EQ(client("::1:8000", {"2001:db8::5, fd00::1"}, "::1, fd00::/8"), "2001:db8::5");
  EXPECT_EQ(client("[fd00::2]:8000", {"[2001:db8::6]"}, "fd00::/8"), "2001:db8::6");
  EXPECT_EQ(client("::1:8000", {"192.0.2.4"}, "::1"), "192.0.2.4");
  EXPECT_EQ(client("2001:db8::9:8000", {"192.0.2.4"}, "::1"), "2001:db8::9");
}

TEST(ClientAddress, APeerWithoutAnAddressComesBackAsItIs) {
  EXPECT_EQ(client("unknown", {"192.0.2.4"}, "10.0.0.0/8"), "unknown");
}

TEST(ClientAddress, TheAnswerHasNoPortAndIsNormalized) {
  EXPECT_EQ(client("::ffff:198.51.100.3:5555", {}, ""), "198.51.100.3");
  EXPECT_EQ(client("10.0.0.2:80", {"2001:DB8:0:0::1"}, "10.0.0.0/8"), "2001:db8::1");
}

}  // namespace
}  // namespace users::api
