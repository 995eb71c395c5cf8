// dumpdata and loaddata through the real binary, on the run's backend
// (SQLite, or PostgreSQL in the second registration): Django's fixtures
// round-trip to the byte, ids are kept and continue after a load, and every
// bad input leaves the database as it was.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include "api/transfer_helpers.hpp"
#include "support/http_client.hpp"

namespace users::testing {
namespace {

std::string record(long pk, std::string_view dni, std::string_view name) {
  return fmt::format(R"({{"model": "api.user", "pk": {}, "fields": {{"dni": "{}", "name": "{}"}}}})", pk, dni, name);
}

std::string fixture(const std::vector<std::string>& records) {
  std::string out = "[";
  for (const auto& one : records) out += (out.size() > 1 ? ", " : "") + one;
  return out + "]";
}

// The format `manage.py dumpdata api.user` writes: one line, ids ascending,
// non-ASCII text as it is, control characters escaped.
std::string dumpdata_fixture() {
  return fixture({
      record(1, "0987", "Ana"),
      record(2, "12345678Z", "José Ñandú"),
      record(5, R"(x\u0001y)", R"(tab\tand \"quotes\")"),
      record(1000, "€13", "名前"),
  });
}

// `manage.py dumpdata api.user --indent 2`, written by hand the way Django
// writes it: a newline before each record, Python's indentation, and the
// escapes Python's json writes (\", \\, \n, \u00xx for control characters).
constexpr std::string_view kIndentedDjangoFixture = R"([
{
  "model": "api.user",
  "pk": 3,
  "fields": {
    "dni": "A-1",
    "name": "Zoë \"Z\" O'Neil"
  }
},
{
  "model": "api.user",
  "pk": 41,
  "fields": {
    "dni": "back\\slash",
    "name": "bell\u0007 and \u001f unit separator"
  }
}
]
)";

TEST(Transfer, AFixtureInDumpdataFormatLoadsAndDumpsByteForByte) {
  const ScratchDatabase db;
  const auto path = db.write_file("users.json", dumpdata_fixture());
  const auto loaded = db.run({"loaddata", path});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_EQ(loaded.err, "loaddata: 4 records loaded: the table went from 0 to 4 users\n");
  const auto dumped = db.run({"dumpdata"});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_EQ(dumped.out, dumpdata_fixture());
  // --output writes the same bytes to a file.
  const auto file = (db.dir() / "out.json").string();
  ASSERT_EQ(db.run({"dumpdata", "--output", file}).exit_code, 0);
  std::ifstream written(file, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(written), {}), dumpdata_fixture());
}

TEST(Transfer, AnIndentedDjangoFixtureLoadsAndDumpsByteForByteWithTheSameIndent) {
  const ScratchDatabase db;
  const auto loaded = db.run({"loaddata", db.write_file("django.json", std::string(kIndentedDjangoFixture))});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  const auto dumped = db.run({"dumpdata", "--indent", "2"});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_EQ(dumped.out, kIndentedDjangoFixture);
}

TEST(Transfer, AsciiEscapedTextFromAnOlderDjangoLoadsAsTheSameUsers) {
  // Django before 3.1 wrote json.dumps' default, ensure_ascii=True: every
  // non-ASCII character escaped, astral ones as surrogate pairs.
  const ScratchDatabase db;
  const auto escaped =
      fixture({record(2, "12345678Z", R"(Jos\u00e9 \u00d1and\u00fa)"), record(9, R"(\ud83d\ude00)", R"(\u540d)")});
  ASSERT_EQ(db.run({"loaddata", db.write_file("old.json", escaped)}).exit_code, 0);
  EXPECT_EQ(db.dump(), fixture({record(2, "12345678Z", "José Ñandú"), record(9, "😀", "名")}));
}

TEST(Transfer, ACreateAfterLoadingPk1000Gets1001) {
  const ScratchDatabase db;
  ASSERT_EQ(db.run({"loaddata", db.write_file("users.json", dumpdata_fixture())}).exit_code, 0);
  TestServer server(with_env({{"DATABASE_URL", db.url()}}));
  HttpClient client(server.port());
  const auto created = client.post_json("/api/users/", R"({"dni":"new","name":"New"})");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  EXPECT_EQ(created.body(), R"({"id":1001,"dni":"new","name":"New"})");
  // The loaded users are served as they were loaded.
  EXPECT_EQ(client.get("/api/users/5/").body(), R"({"id":5,"dni":"x\u0001y","name":"tab\tand \"quotes\""})");
}

TEST(Transfer, LoadingAgainReplacesEachUserByIdAndTheSequenceNeverMovesBack) {
  const ScratchDatabase db;
  const auto path = db.write_file("users.json", dumpdata_fixture());
  ASSERT_EQ(db.run({"loaddata", path}).exit_code, 0);
  {
    // A user created and deleted after the load used id 1001: a later load
    // of lower ids must not free it again.
    TestServer server(with_env({{"DATABASE_URL", db.url()}}));
    HttpClient client(server.port());
    ASSERT_EQ(client.post_json("/api/users/", R"({"dni":"gone","name":"G"})").result_int(), 201);
    ASSERT_EQ(client.del("/api/users/1001/").result_int(), 204);
  }
  const auto renamed = db.write_file("renamed.json", fixture({record(1, "0987", "Ana María")}));
  const auto again = db.run({"loaddata", renamed});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err, "loaddata: 1 records loaded: the table went from 4 to 4 users\n");
  EXPECT_NE(db.dump().find(record(1, "0987", "Ana María")), std::string::npos);
  TestServer server(with_env({{"DATABASE_URL", db.url()}}));
  HttpClient client(server.port());
  EXPECT_EQ(client.post_json("/api/users/", R"({"dni":"next","name":"N"})").body(),
            R"({"id":1002,"dni":"next","name":"N"})");
}

TEST(Transfer, EveryBadInputExitsTwoNamingTheRecordAndLeavesTheDatabaseUnchanged) {
  const ScratchDatabase db;
  ASSERT_EQ(db.run({"loaddata", db.write_file("users.json", dumpdata_fixture())}).exit_code, 0);
  const auto before = db.dump();
  struct Case {
    std::string name;
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases{
      {"taken dni", fixture({record(7, "new", "N"), record(8, "0987", "Other")}),
       "record 2 (pk 8): dni \"0987\" is already taken by another user"},
      {"same dni twice", fixture({record(7, "twin", "N"), record(8, "twin", "M")}),
       "record 2 (pk 8): dni \"twin\" is already taken by another user"},
      {"another model", fixture({record(7, "new", "N"), R"({"model": "auth.user", "pk": 8, "fields": {}})"}),
       "record 2: model \"auth.user\" is not api.user"},
      {"too long", fixture({record(7, "new", "N"), record(8, "12345678901234", "M")}),
       "record 2: pk 8: dni: Ensure this field has no more than 13 characters."},
      {"not json", fixture({record(7, "new", "N")}).substr(0, 40), "record 1: not valid JSON: incomplete JSON"},
      {"no pk", fixture({record(7, "new", "N"), R"({"model": "api.user", "fields": {"dni": "a", "name": "b"}})"}),
       "record 2: no \"pk\""},
      {"not a list", record(7, "new", "N"), "the file is not a list of records"},
  };
  for (const auto& bad : cases) {
    const auto path = db.write_file("bad.json", bad.text);
    for (const bool dry_run : {false, true}) {
      const auto result = dry_run ? db.run({"loaddata", "--dry-run", path}) : db.run({"loaddata", path});
      EXPECT_EQ(result.exit_code, 2) << bad.name;
      EXPECT_NE(result.err.find(bad.message), std::string::npos) << bad.name << ": " << result.err;
      EXPECT_EQ(db.dump(), before) << bad.name;
    }
  }
  const auto missing = db.run({"loaddata", (db.dir() / "missing.json").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(db.dump(), before);
  // Nothing was taken from the sequence either.
  TestServer server(with_env({{"DATABASE_URL", db.url()}}));
  HttpClient client(server.port());
  EXPECT_EQ(client.post_json("/api/users/", R"({"dni":"after","name":"A"})").body(),
            R"({"id":1001,"dni":"after","name":"A"})");
}

TEST(Transfer, ARecordFailingLateStopsBeforeAnyWriteWhenTheFileItselfIsAtFault) {
  // Every record is checked before the first batch is written: a bad record
  // far down the file leaves the database untouched, not half loaded.
  const ScratchDatabase db;
  std::vector<std::string> records;
  for (long id = 1; id <= 2500; ++id) records.push_back(record(id, fmt::format("d{}", id), "N"));
  records.push_back(record(2501, "d2501", std::string(31, 'n')));
  const auto result = db.run({"loaddata", db.write_file("late.json", fixture(records))});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("record 2501: pk 2501: name: Ensure this field has no more than 30 characters."),
            std::string::npos)
      << result.err;
  EXPECT_EQ(db.dump(), "[]");
}

TEST(Transfer, ATakenDniInALaterBatchKeepsTheBatchesBeforeItAndMovesTheSequencePastThem) {
  const ScratchDatabase db;
  std::vector<std::string> records;
  for (long id = 1; id <= 1500; ++id) records.push_back(record(id, fmt::format("d{}", id), "N"));
  records[1199] = record(1200, "d3", "N");  // the dni of pk 3, in the second batch
  const auto result = db.run({"loaddata", db.write_file("conflict.json", fixture(records))});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("record 1200 (pk 1200): dni \"d3\" is already taken by another user; nothing of its "
                            "batch was written"),
            std::string::npos)
      << result.err;
  const auto dumped = boost::json::parse(db.dump()).as_array();
  ASSERT_EQ(dumped.size(), 1000U);
  EXPECT_EQ(dumped.back().at("pk").as_int64(), 1000);
  TestServer server(with_env({{"DATABASE_URL", db.url()}}));
  HttpClient client(server.port());
  EXPECT_EQ(client.post_json("/api/users/", R"({"dni":"after","name":"A"})").body(),
            R"({"id":1001,"dni":"after","name":"A"})");
}

TEST(Transfer, DryRunReportsWhatWouldLoadAndWritesNothing) {
  const ScratchDatabase db;
  ASSERT_EQ(db.run({"loaddata", db.write_file("users.json", dumpdata_fixture())}).exit_code, 0);
  const auto before = db.dump();
  const auto path = db.write_file("more.json", fixture({record(1, "0987", "Renamed"), record(2000, "fresh", "F")}));
  const auto result = db.run({"loaddata", "--dry-run", path});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err,
            "loaddata: dry run: 2 records are valid and would load: the table would go from 4 to 5 users; nothing "
            "was written\n");
  EXPECT_EQ(db.dump(), before);
  TestServer server(with_env({{"DATABASE_URL", db.url()}}));
  HttpClient client(server.port());
  EXPECT_EQ(client.post_json("/api/users/", R"({"dni":"after","name":"A"})").body(),
            R"({"id":1001,"dni":"after","name":"A"})");
}

TEST(Transfer, DumpdataOfAnEmptyTableIsWhatDjangoWrites) {
  const ScratchDatabase db;
  ASSERT_EQ(db.run({"migrate"}).exit_code, 0);
  EXPECT_EQ(db.run({"dumpdata"}).out, "[]");
  EXPECT_EQ(db.run({"dumpdata", "--indent", "4"}).out, "[\n]\n");
}

}  // namespace
}  // namespace users::testing
