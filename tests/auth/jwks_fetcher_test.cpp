// The JWKS fetcher against a real https server, started by the test with a
// CA made for the occasion.
#include "auth/jwks_fetcher.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "auth/jwt_authenticator.hpp"
#include "auth/support.hpp"

namespace users::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::HttpsServer;
using testing::TempFile;
using testing::TestKey;

template <typename Predicate>
bool eventually(Predicate predicate, milliseconds timeout = milliseconds{8000}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds{20});
  }
  return true;
}

struct Recorded {
  std::mutex mutex;
  std::vector<std::string> lines;
  Events events() {
    Events out;
    out.notify = [this](Events::Severity, std::string_view what, std::string_view detail) {
      const std::lock_guard lock(mutex);
      lines.push_back(std::string{what} + ": " + std::string{detail});
    };
    return out;
  }
  std::string all() {
    const std::lock_guard lock(mutex);
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
  }
};

std::string bearer(const TestKey& key) {
  const auto exp =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch()).count() + 600;
  return "Bearer " + testing::sign_jwt(key, {{"iss", "iss"}, {"aud", "aud"}, {"sub", key.kid}, {"exp", exp}});
}

class JwksUrl : public ::testing::Test {
 protected:
  static const testing::TlsIdentity& identity() {
    static const testing::TlsIdentity made = testing::make_tls_identity();
    return made;
  }

  JwksUrl() : server_(identity()), ca_file_(identity().ca_pem) {}

  FetcherOptions options(seconds refresh = seconds{300}) {
    FetcherOptions out;
    out.url = server_.url();
    out.ca_file = ca_file_.path();
    out.refresh = refresh;
    out.events = recorded_.events();
    return out;
  }

  std::unique_ptr<JwtAuthenticator> authenticator(FetcherOptions fetcher_options) {
    auto fetcher = JwksFetcher::start(std::move(fetcher_options));
    EXPECT_TRUE(fetcher) << (fetcher ? "" : fetcher.error());
    if (!fetcher) return nullptr;
    fetcher_ = fetcher->get();
    return std::make_unique<JwtAuthenticator>(JwtPolicy{"iss", "aud", seconds{30}}, std::move(*fetcher), Events{});
  }

  HttpsServer server_;
  TempFile ca_file_;
  Recorded recorded_;
  JwksFetcher* fetcher_ = nullptr;
  TestKey first_ = testing::make_ec_key("first");
  TestKey second_ = testing::make_ed25519_key("second");
};

TEST_F(JwksUrl, PlainHttpIsRefusedAtConstruction) {
  auto settings = options();
  settings.url = "http://127.0.0.1:1/jwks.json";
  const auto fetcher = JwksFetcher::start(settings);
  ASSERT_FALSE(fetcher);
  EXPECT_NE(fetcher.error().find("https"), std::string::npos) << fetcher.error();
  settings.url = "not a url";
  EXPECT_FALSE(JwksFetcher::start(settings));
  settings.url = server_.url();
  settings.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(JwksFetcher::start(settings));
}

TEST_F(JwksUrl, KeysFetchedOverTlsVerifyTokens) {
  server_.respond(200, testing::jwks_of({&first_}));
  const auto auth = authenticator(options());
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return !auth->not_ready(); })) << recorded_.all();
  const auto principal = auth->authenticate(bearer(first_));
  ASSERT_TRUE(principal);
  EXPECT_EQ((*principal)->name, "first");
  EXPECT_EQ(auth->authenticate(bearer(second_)).error(), Failure::kInvalid);
  EXPECT_EQ(server_.last_server_name(), "") << "no SNI for an IP address";
}

TEST_F(JwksUrl, NotReadySaysWhyUntilTheFirstFetchSucceeds) {
  server_.respond(503, "down for maintenance");
  const auto auth = authenticator(options());
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return fetcher_->fetches() >= 1; }));
  const auto why = auth->not_ready();
  ASSERT_TRUE(why);
  EXPECT_EQ(why->rfind("JWKS not loaded yet: ", 0), 0U) << *why;
  EXPECT_NE(why->find("503"), std::string::npos) << *why;
  EXPECT_EQ(auth->authenticate(bearer(first_)).error(), Failure::kInvalid);
  // Retried within seconds, not at the refresh interval.
  server_.respond(200, testing::jwks_of({&first_}));
  ASSERT_TRUE(eventually([&] { return !auth->not_ready(); })) << recorded_.all();
  EXPECT_TRUE(auth->authenticate(bearer(first_)));
}

TEST_F(JwksUrl, ACertificateFromAnotherCaIsRefused) {
  server_.respond(200, testing::jwks_of({&first_}));
  const testing::TlsIdentity stranger = testing::make_tls_identity();
  const TempFile other_ca(stranger.ca_pem);
  auto settings = options();
  settings.ca_file = other_ca.path();
  const auto auth = authenticator(settings);
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return fetcher_->fetches() >= 1; }));
  const auto why = auth->not_ready();
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("TLS handshake"), std::string::npos) << *why;
}

TEST_F(JwksUrl, TheHostNameIsChecked) {
  // A certificate from the trusted CA, but for another name.
  const testing::TlsIdentity elsewhere = testing::make_tls_identity("DNS:idp.example");
  HttpsServer server(elsewhere);
  server.respond(200, testing::jwks_of({&first_}));
  const TempFile ca(elsewhere.ca_pem);
  auto settings = options();
  settings.url = server.url();
  settings.ca_file = ca.path();
  const auto auth = authenticator(settings);
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return fetcher_->fetches() >= 1; }));
  const auto why = auth->not_ready();
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("TLS handshake"), std::string::npos) << *why;
}

TEST_F(JwksUrl, AHostNameIsSentAsSniAndMatched) {
  server_.respond(200, testing::jwks_of({&first_}));
  auto settings = options();
  settings.url = "https://localhost:" + std::to_string(server_.port()) + "/jwks.json?tenant=a";
  const auto auth = authenticator(settings);
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return !auth->not_ready(); })) << recorded_.all();
  EXPECT_TRUE(auth->authenticate(bearer(first_)));
  EXPECT_EQ(server_.last_server_name(), "localhost");
}

TEST_F(JwksUrl, KeysRotateThroughARefresh) {
  server_.respond(200, testing::jwks_of({&first_}));
  const auto auth = authenticator(options(seconds{1}));
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return !auth->not_ready(); }));
  ASSERT_TRUE(auth->authenticate(bearer(first_)));
  server_.respond(200, testing::jwks_of({&second_}));
  const auto before = server_.requests();
  ASSERT_TRUE(eventually([&] { return server_.requests() > before && fetcher_->current()->generation >= 2; }))
      << recorded_.all();
  EXPECT_TRUE(auth->authenticate(bearer(second_)));
  EXPECT_EQ(auth->authenticate(bearer(first_)).error(), Failure::kInvalid) << "a removed key no longer verifies";
}

TEST_F(JwksUrl, AnUnknownKidRefetchesAtMostOnceAMinute) {
  server_.respond(200, testing::jwks_of({&first_}));
  const auto auth = authenticator(options());
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return !auth->not_ready(); }));
  const auto requests = server_.requests();
  server_.respond(200, testing::jwks_of({&first_, &second_}));
  EXPECT_EQ(auth->authenticate(bearer(second_)).error(), Failure::kInvalid);
  ASSERT_TRUE(eventually([&] { return auth->authenticate(bearer(second_)).has_value(); })) << recorded_.all();
  EXPECT_EQ(server_.requests(), requests + 1);
  // A third kid, within the minute: no fetch.
  const TestKey third = testing::make_ec_key("third");
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(auth->authenticate(bearer(third)));
  std::this_thread::sleep_for(milliseconds{300});
  EXPECT_EQ(server_.requests(), requests + 1);
}

TEST_F(JwksUrl, AFailedRefreshKeepsTheLastGoodSet) {
  server_.respond(200, testing::jwks_of({&first_}));
  const auto auth = authenticator(options(seconds{1}));
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return !auth->not_ready(); }));
  const auto fetched = fetcher_->fetches();
  server_.respond(200, R"({"keys": "broken"})");
  ASSERT_TRUE(eventually([&] { return fetcher_->fetches() >= fetched + 1; }));
  server_.respond(500, "oops");
  ASSERT_TRUE(eventually([&] { return fetcher_->fetches() >= fetched + 2; }));
  EXPECT_FALSE(auth->not_ready());
  EXPECT_TRUE(auth->authenticate(bearer(first_)));
  const std::string said = recorded_.all();
  EXPECT_NE(said.find("the last good key set stays in use"), std::string::npos) << said;
  EXPECT_NE(said.find("500"), std::string::npos) << said;
}

TEST_F(JwksUrl, AResponseOverTheSizeLimitIsRefused) {
  server_.respond(200, testing::jwks_of({&first_}) + std::string(2000, ' '));
  auto settings = options();
  settings.max_bytes = 1000;
  const auto auth = authenticator(settings);
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return fetcher_->fetches() >= 1; }));
  const auto why = auth->not_ready();
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("larger than 1000 bytes"), std::string::npos) << *why;
}

TEST_F(JwksUrl, ReloadFetchesAtOnce) {
  server_.respond(200, testing::jwks_of({&first_}));
  const auto auth = authenticator(options());
  ASSERT_TRUE(auth);
  ASSERT_TRUE(eventually([&] { return !auth->not_ready(); }));
  server_.respond(200, testing::jwks_of({&second_}));
  auth->reload();
  ASSERT_TRUE(eventually([&] { return fetcher_->current()->generation >= 2; })) << recorded_.all();
  EXPECT_TRUE(auth->authenticate(bearer(second_)));
}

}  // namespace
}  // namespace users::auth
