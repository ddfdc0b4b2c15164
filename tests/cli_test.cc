// The real binaries: atable-server started as a process on a port picked by the OS, and the
// atable CLI run against it as a user would.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <libical/ical.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atable/v1/catalog.grpc.pb.h"
#include "atable/v1/matchmaking.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace atable {
namespace {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// An atable-server process on a port the OS picks; stopped with SIGTERM on destruction.
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& data_dir, const std::string& extra_flags = "")
      : log_(data_dir + ".log") {
    pid_ = fork();
    if (pid_ == 0) {
      std::string command = absl::StrCat("exec ", ATABLE_SERVER_BINARY, " --listen 127.0.0.1:0 --data ",
                                         data_dir, " ", extra_flags, " 2> ", log_);
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait for the "serving on host:port" line.
    std::regex serving("serving on (127\\.0\\.0\\.1:[0-9]+)");
    for (int i = 0; i < 600 && address_.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::smatch m;
      std::string log = Log();
      if (std::regex_search(log, m, serving)) address_ = m[1];
    }
  }
  ~ServerProcess() { Stop(); }

  // Sends SIGTERM and returns the exit status (-1 if it did not exit normally).
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_status_;
  }
  const std::string& address() const { return address_; }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::string address_;
};

class CliTest : public ::testing::Test {
 protected:
  CommandResult Atable(const std::string& args) {
    return RunCommand(absl::StrCat(ATABLE_CLI_BINARY, " --server ", server_->address(), " --token ", token_, " ", args));
  }
  // Creates a key on the (stopped) server's data folder and returns its secret.
  std::string CreateKey(const std::string& flags) {
    CommandResult r = RunCommand(absl::StrCat(ATABLE_SERVER_BINARY, " keys create --data ", dir_.Sub("data"), " ",
                                              flags));
    EXPECT_EQ(0, r.exit_code) << r.output;
    std::smatch secret;
    EXPECT_TRUE(std::regex_search(r.output, secret, std::regex("atable_[0-9a-f]+_[0-9a-f]+"))) << r.output;
    return secret.empty() ? "" : secret[0].str();
  }
  void StartServer(const std::string& flags = "") {
    if (token_.empty()) token_ = CreateKey("--role organizer --description tests");
    server_ = std::make_unique<ServerProcess>(dir_.Sub("data"), flags);
    ASSERT_FALSE(server_->address().empty()) << server_->Log();
  }
  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }

  testing::TempDir dir_;
  std::string token_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CliTest, HealthSaysServing) {
  StartServer();
  CommandResult r = Atable("health");
  EXPECT_EQ(0, r.exit_code) << r.output;
  EXPECT_EQ(server_->address() + ": SERVING\n", r.output);
  r = Atable("--json health");
  EXPECT_EQ(absl::StrCat("{\"server\": \"", server_->address(), "\", \"status\": \"SERVING\"}\n"), r.output);
}

TEST_F(CliTest, HealthOfAnAbsentServerFailsClearly) {
  CommandResult r = RunCommand(absl::StrCat(ATABLE_CLI_BINARY, " --server 127.0.0.1:1 --timeout 2 health"));
  EXPECT_EQ(3, r.exit_code);
  EXPECT_NE(std::string::npos, r.output.find("cannot reach the atable server at 127.0.0.1:1")) << r.output;
}

TEST_F(CliTest, PutsAndGetsOffers) {
  StartServer();
  std::string provider = WriteFile("provider.json", R"({
    "id": "gite-des-burons", "name": "Gîte des Burons", "kind": "BUSINESS_KIND_ACCOMMODATION",
    "address": {"postcode": "15140", "commune": "Salers", "insee_code": "15219"},
    "location": {"latitude": 45.1398, "longitude": 2.4953}})");
  std::string offer = WriteFile("offer.json", R"({
    "id": "gite-des-burons/1", "provider_id": "gite-des-burons", "kind": "OFFER_KIND_LODGING",
    "sub_kind": "OFFER_SUB_KIND_SELF_CATERING", "title": "Gîte des Burons, 6 personnes",
    "capacity": {"min_persons": 1, "max_persons": 6},
    "prices": [{"min_amount_cents": 42000, "max_amount_cents": 61000, "unit": "PRICE_UNIT_PER_WEEK",
                "season": "été"}],
    "classification": {"scheme": "CLASSIFICATION_SCHEME_EPIS", "level": 3, "name": "Gîtes de France"},
    "tags": ["self-catering", "family"]})");
  CommandResult r = Atable("providers put " + provider);
  ASSERT_EQ(0, r.exit_code) << r.output;
  r = Atable("offers put " + offer);
  ASSERT_EQ(0, r.exit_code) << r.output;

  r = Atable("offers get gite-des-burons/1");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Title           Gîte des Burons, 6 personnes\n")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Kind            lodging / self catering\n")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Capacity        up to 6 persons\n")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Prices          420.00-610.00 EUR per week (été)\n")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Classification  3 épis (Gîtes de France)\n")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Location        45.139800, 2.495300\n")) << r.output;

  r = Atable("--json offers get gite-des-burons/1");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("\"max_amount_cents\": \"61000\"")) << r.output;

  r = Atable("offers get nope/1");
  EXPECT_EQ(1, r.exit_code);
  EXPECT_EQ("atable: not found: offer nope/1 not found\n", r.output);

  r = Atable("offers delete gite-des-burons/1");
  EXPECT_EQ(0, r.exit_code) << r.output;
  EXPECT_EQ(1, Atable("offers get gite-des-burons/1").exit_code);
}

TEST_F(CliTest, RefusedInputIsExplained) {
  StartServer();
  std::string bad = WriteFile("bad.json", R"({"id": "x", "name": "X", "location": {"latitude": 99}})");
  CommandResult r = Atable("providers put " + bad);
  EXPECT_EQ(1, r.exit_code);
  EXPECT_EQ("atable: invalid input: provider.location.latitude: must be in [-90, 90]\n", r.output);
  std::string broken = WriteFile("broken.json", R"({"id": "x", "name": )");
  r = Atable("providers put " + broken);
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.output.find("is not a valid Provider in JSON")) << r.output;
  r = Atable("offers frobnicate");
  EXPECT_EQ(2, r.exit_code);
}

TEST_F(CliTest, ServesTheDemoCatalogAndStopsGracefully) {
  StartServer("--demo_dir " + testing::ProjectPath("server/demo"));
  CommandResult r = Atable("offers get af-15110-arev-hotel/stay");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Classification  2 stars (Atout France)")) << r.output;
  EXPECT_EQ(0, server_->Stop());
  std::string log = server_->Log();
  EXPECT_NE(std::string::npos, log.find("SIGTERM received")) << log;
  EXPECT_NE(std::string::npos, log.find("stopped serving on")) << log;

  // Everything is there after a restart, and the demo is not loaded twice.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("revision ([0-9]+)")));
  std::string revision = m[1];
  StartServer("--demo_dir " + testing::ProjectPath("server/demo"));
  EXPECT_NE(std::string::npos, server_->Log().find("revision " + revision)) << server_->Log();
  EXPECT_EQ(0, Atable("offers get demo-0001/1").exit_code);
}

// What a gRPC tool such as grpcurl or grpc_cli sees: the Catalog through server reflection.
TEST_F(CliTest, ReflectionListsTheCatalog) {
  StartServer();
  auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = reflection->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("*");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) names.push_back(service.name());
  std::sort(names.begin(), names.end());
  EXPECT_EQ("{ \"atable.v1.Admin\", \"atable.v1.Catalog\", \"atable.v1.Matchmaking\", \"grpc.health.v1.Health\", \"grpc.reflection.v1alpha.ServerReflection\" }",
            ::testing::PrintToString(names));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(CliTest, SearchesOffersAndWatchesChanges) {
  StartServer("--demo_dir " + testing::ProjectPath("server/demo"));
  CommandResult r = Atable("offers search --text \"chaudes aigues\" --kind lodging --page-size 100");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("af-15110-arev-hotel/stay")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Arev Hôtel")) << r.output;

  r = Atable("offers search --sub-kind self-catering --persons 6 --unit week --max-price 700 "
             "--near 44.9245,2.4416 --radius 30 --sort price --page-size 3");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("EUR per week")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("next page: --page-token ")) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("3 of ([0-9]+) offers")));
  int total = std::stoi(m[1]);
  r = Atable("offers search --sub-kind self-catering --persons 6 --unit week --max-price 700 "
             "--near 44.9245,2.4416 --radius 30 --sort price --page-size 3 --all");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find(absl::StrCat(total, " of ", total, " offers"))) << r.output;

  // --fields: each result carries those fields only.
  r = Atable("offers search --text \"arev hotel\" --fields id,title --json");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("\"title\":\"Arev Hôtel\"")) << r.output;
  EXPECT_EQ(std::string::npos, r.output.find("\"prices\"")) << r.output;
  r = Atable("offers search --text \"arev hotel\" --json");
  EXPECT_NE(std::string::npos, r.output.find("\"prices\"")) << r.output;
  r = Atable("offers search --fields id,price");
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.output.find("read_mask.paths[1]: \"price\" is not a field of Offer")) << r.output;

  r = Atable("offers search --kind spa");
  EXPECT_EQ(2, r.exit_code);
  EXPECT_EQ("atable: --kind spa: expected one of lodging, activity, package, other\n", r.output);

  r = Atable("watch --json");
  ASSERT_EQ(0, r.exit_code) << r.output.substr(0, 500);
  EXPECT_NE(std::string::npos, r.output.find("\"resume_token\":\"c1\"")) << r.output.substr(0, 500);
  EXPECT_EQ(0, Atable("offers delete demo-0001/1").exit_code);
  r = Atable("watch --from c1094");
  EXPECT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("delete offer    demo-0001/1")) << r.output;
}

TEST_F(CliTest, StoresBuyersAndSuggestsPairs) {
  StartServer("--demo_dir " + testing::ProjectPath("server/demo"));
  CommandResult r = Atable("buyers list");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("demo-giftbox  Coffrets Évasion  (gift box, 1 need)")) << r.output;

  std::string file = WriteFile("buyer.json", R"({"id": "spa-lover", "name": "Bien-être Box", "kind": "BUYER_KIND_GIFT_BOX",
    "needs": [{"id": "spa", "description": "spa days for two", "sub_kinds": ["OFFER_SUB_KIND_WELLNESS"], "group_size": 2}]})");
  r = Atable("buyers put " + file);
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_EQ("stored spa-lover  Bien-être Box  (gift box, 1 need)\n", r.output);

  r = Atable("pairs suggest --buyer spa-lover --top 3");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("spa days for two: ")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("3 pairs")) << r.output;

  // A requested pair comes first, marked; a refused one never comes.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("\n1 +spa-lover +([^ ]+)")));
  std::string first = m[1];
  r = Atable("pairs suggest --buyer spa-lover --top 3 --request af-15110-arev-hotel:spa-lover --refuse spa-lover:" + first);
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("\n1 +spa-lover +af-15110-arev-hotel +[0-9.]+ +provider "))) << r.output;
  EXPECT_EQ(std::string::npos, r.output.find(" " + first + " ")) << r.output;

  r = Atable("pairs suggest --request nonsense");
  EXPECT_EQ(2, r.exit_code);
  EXPECT_EQ("atable: --request nonsense: expected FROM:TO (two participant ids)\n", r.output);
  r = Atable("buyers get nobody");
  EXPECT_EQ(1, r.exit_code);
  EXPECT_EQ("atable: not found: buyer nobody not found\n", r.output);
}

TEST_F(CliTest, SolvesAnEventFileLocally) {
  std::string out = dir_.Sub("schedule.json");
  CommandResult r = RunCommand(absl::StrCat(ATABLE_CLI_BINARY, " schedule solve ",
                                            testing::ProjectPath("server/demo/event-cantal.json"), " --out ", out));
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("cantal-2026: placed ([0-9]+) of \\1 meetings"))) << r.output;
  std::string json = testing::ReadFileOrDie(out);
  EXPECT_NE(std::string::npos, json.find("\"start\": \"09:")) << json.substr(0, 400);
  EXPECT_NE(std::string::npos, json.find("\"start\": \"13:30\"")) << "the first slot after lunch";
  EXPECT_EQ(std::string::npos, json.find("\"start\": \"12:30\"")) << "lunch has no slot";

  // --close-gaps: the gaps the exact step leaves are proven the fewest (lower bound = gaps).
  std::string pairs;
  for (int a = 1; a <= 6; ++a) {
    for (int b = a + 1; b <= 6; ++b) absl::StrAppend(&pairs, pairs.empty() ? "" : ", ", "{\"a\": \"p", a, "\", \"b\": \"p", b, "\"}");
  }
  std::string small = WriteFile("small-event.json", absl::StrCat(R"({"id": "small", "slots": {"start": "09:00",
    "minutes": 15, "count": 8, "morning_count": 4}, "tables": 3, "participants": [{"id": "p1", "forbidden_slots": [3]},
    {"id": "p2"}, {"id": "p3", "forbidden_slots": [6]}, {"id": "p4"}, {"id": "p5"}, {"id": "p6"}], "meetings": [)",
                                                                 pairs, "]}"));
  r = RunCommand(absl::StrCat(ATABLE_CLI_BINARY, " schedule solve ", small, " --iterations 30 --close-gaps"));
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("placed 15 of 15 meetings; idle gaps ([0-9]+) \\(lower bound \\1\\)")))
      << r.output;

  std::string bad = WriteFile("bad-event.json", R"({"id": "x", "slots": {"count": 4}, "tables": 2,
    "participants": [{"id": "a", "role": "buyer"}], "meetings": [{"a": "a", "b": "zz"}]})");
  r = RunCommand(absl::StrCat(ATABLE_CLI_BINARY, " schedule solve ", bad));
  EXPECT_EQ(2, r.exit_code);
  EXPECT_EQ(absl::StrCat("atable: ", bad, ": meetings[0].b: \"zz\" is not a participant\n"), r.output);
  std::string truncated = WriteFile("truncated.json", R"({"id": "x", "slots": {"count": )");
  r = RunCommand(absl::StrCat(ATABLE_CLI_BINARY, " schedule solve ", truncated));
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.output.find("not valid JSON at byte")) << r.output;
  std::string huge = WriteFile("huge.json", R"({"id": "x", "name": 2222222222222222222222e2222})");
  r = RunCommand(absl::StrCat(ATABLE_CLI_BINARY, " schedule solve ", huge));
  EXPECT_EQ(2, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("not valid JSON")) << r.output;
}

TEST_F(CliTest, BuildsAnEventOnTheServerAndPrintsAgendas) {
  StartServer("--demo_dir " + testing::ProjectPath("server/demo"));
  CommandResult r = Atable("event put " + testing::ProjectPath("server/demo/event-cantal.json"));
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_EQ("stored event cantal-2026 (Rencontres du tourisme du Cantal): 190 participants, 22 slots, 40 tables, "
            "0 meetings, 470 requests\n", r.output);
  r = Atable("agenda show --event cantal-2026");
  EXPECT_EQ(1, r.exit_code);
  EXPECT_EQ("atable: refused: event cantal-2026 has no schedule yet; build it first\n", r.output);
  r = Atable("schedule build --event cantal-2026 --seed 3 --suggestions");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("^cantal-2026: placed [0-9]+ of [0-9]+ meetings; idle gaps"))) << r.output;
  r = Atable("agenda show --event cantal-2026 --participant demo-giftbox");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("demo-giftbox at cantal-2026\n")) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("\n[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}  table 3 "))) << r.output;
  r = Atable("agenda show --event cantal-2026");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("table  09:00 09:15")) << r.output.substr(0, 300);
  EXPECT_NE(std::string::npos, r.output.find(" 13:30 ")) << "the first slot after lunch";
}

TEST_F(CliTest, ExportsAgendasAsHtmlCalendarsAndCsv) {
  StartServer("--demo_dir " + testing::ProjectPath("server/demo"));
  ASSERT_EQ(0, Atable("event put " + testing::ProjectPath("server/demo/event-cantal.json")).exit_code);
  CommandResult r = Atable("schedule build --event cantal-2026 --seed 3 --suggestions");
  ASSERT_EQ(0, r.exit_code) << r.output;
  std::smatch placed;
  ASSERT_TRUE(std::regex_search(r.output, placed, std::regex("placed ([0-9]+) of"))) << r.output;
  const size_t meetings = std::stoul(placed[1]);
  r = Atable("--json agenda show --event cantal-2026 --participant demo-giftbox");
  ASSERT_EQ(0, r.exit_code) << r.output;
  v1::Agenda giftbox;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.output, &giftbox).ok()) << r.output;
  ASSERT_GT(giftbox.items_size(), 5);

  // CSV: one row per meeting, under a header.
  r = Atable("agenda export --event cantal-2026 --format csv --out " + dir_.Sub("csv"));
  ASSERT_EQ(0, r.exit_code) << r.output;
  std::string csv = testing::ReadFileOrDie(dir_.Sub("csv/meetings.csv"));
  EXPECT_EQ(0u, csv.find("event,date,slot,start,end,table,a_id,a_name,a_role,b_id,b_name,b_role,why\r\n"));
  EXPECT_EQ(meetings + 1, static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')));

  // ICS: the gift-box maker's calendar parses back with libical, one event per meeting, local times.
  r = Atable("agenda export --event cantal-2026 --format ics --out " + dir_.Sub("ics"));
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_EQ("wrote 190 ics files to " + dir_.Sub("ics") + " (demo-seller.ics, ...)\n", r.output);
  std::string ics = testing::ReadFileOrDie(dir_.Sub("ics/demo-giftbox.ics"));
  icalcomponent* calendar = icalparser_parse_string(ics.c_str());
  ASSERT_NE(nullptr, calendar);
  EXPECT_EQ(ICAL_VCALENDAR_COMPONENT, icalcomponent_isa(calendar));
  EXPECT_NE(nullptr, icalcomponent_get_first_component(calendar, ICAL_VTIMEZONE_COMPONENT));
  int events = 0;
  for (icalcomponent* e = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT); e != nullptr;
       e = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT), ++events) {
    ASSERT_LT(events, giftbox.items_size());
    const v1::AgendaItem& item = giftbox.items(events);
    icalproperty* start = icalcomponent_get_first_property(e, ICAL_DTSTART_PROPERTY);
    ASSERT_NE(nullptr, start);
    icalparameter* tzid = icalproperty_get_first_parameter(start, ICAL_TZID_PARAMETER);
    ASSERT_NE(nullptr, tzid);
    EXPECT_STREQ("Europe/Paris", icalparameter_get_tzid(tzid));
    icaltimetype t = icalproperty_get_dtstart(start);
    EXPECT_EQ(2026, t.year);
    EXPECT_EQ(12, t.month);
    EXPECT_EQ(10, t.day);
    EXPECT_EQ(item.start(), absl::StrFormat("%02d:%02d", t.hour, t.minute));
    EXPECT_EQ(absl::StrCat("Table ", item.table()), icalcomponent_get_location(e));
    EXPECT_EQ("Meeting: " + item.with_name(), icalcomponent_get_summary(e));
  }
  EXPECT_EQ(giftbox.items_size(), events);
  icalcomponent_free(calendar);

  // HTML: rendered by headless Chromium to a PDF (A4) and a PNG; the PDF shows every meeting.
  r = Atable("agenda export --event cantal-2026 --format html --out " + dir_.Sub("html"));
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_EQ("wrote 191 html files to " + dir_.Sub("html") + " (index.html, ...)\n", r.output);
  std::string chromium = absl::StrCat("chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=",
                                      dir_.Sub("chromium"), " ");
  std::string page = "file://" + dir_.Sub("html/demo-giftbox.html");
  r = RunCommand(chromium + "--no-pdf-header-footer --print-to-pdf=" + dir_.Sub("giftbox.pdf") + " " + page);
  ASSERT_EQ(0, r.exit_code) << r.output;
  r = RunCommand(chromium + "--window-size=900,1300 --screenshot=" + dir_.Sub("giftbox.png") + " " + page);
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_GT(std::filesystem::file_size(dir_.Sub("giftbox.png")), 20000u);
  r = RunCommand("pdfinfo " + dir_.Sub("giftbox.pdf"));
  EXPECT_NE(std::string::npos, r.output.find("(A4)")) << r.output;
  r = RunCommand("pdftotext " + dir_.Sub("giftbox.pdf") + " -");
  ASSERT_EQ(0, r.exit_code) << r.output;
  std::string text = std::regex_replace(r.output, std::regex("\\s+"), " ");
  EXPECT_NE(std::string::npos, text.find("Coffrets Évasion")) << text;
  EXPECT_NE(std::string::npos, text.find("Thursday 10 December 2026")) << text;
  for (const v1::AgendaItem& item : giftbox.items()) {
    EXPECT_NE(std::string::npos, text.find(absl::StrCat(item.start(), "–", item.end()))) << item.start() << text;
    EXPECT_NE(std::string::npos, text.find(item.with_name())) << item.with_name() << " in " << text;
    EXPECT_NE(std::string::npos, text.find(absl::StrCat("Table ", item.table()))) << text;
  }
  // The overview grid: every table and the participants' names.
  r = RunCommand(chromium + "--no-pdf-header-footer --print-to-pdf=" + dir_.Sub("grid.pdf") + " file://" +
                 dir_.Sub("html/index.html"));
  ASSERT_EQ(0, r.exit_code) << r.output;
  r = RunCommand("pdftotext " + dir_.Sub("grid.pdf") + " -");
  EXPECT_NE(std::string::npos, r.output.find("Rencontres du tourisme du Cantal")) << r.output.substr(0, 500);
  EXPECT_NE(std::string::npos, r.output.find("13:30")) << "the first slot after lunch";
}

TEST_F(CliTest, ImportsAtoutFranceAndJsonLinesSafelyTwice) {
  StartServer();
  std::string af = testing::SharedDataPath("atout-france/hebergements-classes_2022-01_auvergne.csv");
  CommandResult r = Atable("import atout-france " + af);
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("created 1196, updated 0, unchanged 0, skipped 0, rejected 0\n")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("600 rows read, 2 merged as reclassifications")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("not placed (no commune LE LIORAN with postcode 15300)")) << r.output;
  r = Atable("import atout-france " + af);
  EXPECT_NE(std::string::npos, r.output.find("created 0, updated 0, unchanged 1196")) << r.output;
  // A hotel's stars and place.
  r = Atable("offers get af-15110-arev-hotel/stay");
  EXPECT_NE(std::string::npos, r.output.find("Classification  2 stars (Atout France)")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Location        44.848938, 2.998231")) << r.output;

  std::string bad = WriteFile("bad.csv", "nom;prix\nGîte;100\n");
  r = Atable("import atout-france " + bad);
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.output.find("not the header of the Atout France export")) << r.output;

  std::string lines = WriteFile("records.jsonl",
      "# a provider and two offers\n"
      "{\"provider\": {\"id\": \"jl-1\", \"name\": \"Ferme JL\"}}\n"
      "{\"offer\": {\"id\": \"jl-1/a\", \"provider_id\": \"jl-1\", \"kind\": \"OFFER_KIND_ACTIVITY\", \"title\": \"Traite\"}}\n"
      "{\"offer\": {\"id\": \"jl-1/b\", \"provider_id\": \"jl-1\", \"kind\": \"OFFER_KIND_ACTIVITY\", \"title\": \"\"}}\n");
  r = Atable("import offers " + lines);
  EXPECT_EQ(1, r.exit_code) << r.output;  // one record refused
  EXPECT_NE(std::string::npos, r.output.find("created 2, updated 0, unchanged 0, skipped 1, rejected 1")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("rejected record 2 jl-1/b: offer.title: is required")) << r.output;
  std::string truncated = WriteFile("truncated.jsonl", "{\"provider\": {\"id\": \"jl-2\", \"name\": \"X\"}}\n{\"offer\": {\"id\"\n");
  r = Atable("import offers " + truncated);
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.output.find("line 2: not an import record")) << r.output;
  EXPECT_EQ(1, Atable("providers get jl-2").exit_code);  // nothing of the bad file was imported
}

TEST_F(CliTest, ImportsDatatourismeFoldersSafelyTwice) {
  StartServer();
  std::string folder = testing::SharedDataPath("datatourisme");
  CommandResult r = Atable("import datatourisme " + folder);
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_EQ("created 8, updated 0, unchanged 0, skipped 1, rejected 0\n5 files read\n"
            "skipped 49-00037bcf-28e4-3322-b72f-377587204703.json: an event, not an offer\n", r.output);
  r = Atable("import datatourisme " + folder);
  EXPECT_NE(std::string::npos, r.output.find("created 0, updated 0, unchanged 8, skipped 1")) << r.output;
  // The gîte: capacity, a price and its unit, its grade.
  r = Atable("offers get dt-hloaqu087v5004ty/offer");
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Capacity        up to 6 persons")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("349.00 EUR per week (Moyenne saison), Semaine moyenne saison, "
                                             "2023-04-01 to 2023-06-30")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("Classification  3 épis (Gîtes de France)")) << r.output;
  r = Atable("offers search --text \"bien etre\"");
  EXPECT_NE(std::string::npos, r.output.find("dt-ascnor076v51bqwb/offer")) << r.output;

  // A folder with a truncated object and one in Latin-1: both reported, the rest imported.
  std::string gite = testing::ReadFileOrDie(folder + "/23-005819a3-aaf9-31ba-9f1f-5616e78d8738.json");
  std::filesystem::create_directories(dir_.Sub("mixed"));
  WriteFile("mixed/a-truncated.json", gite.substr(0, 5000));
  std::string latin1 = testing::ReadFileOrDie(folder + "/30-0049c43b-5087-3c44-87ef-349d316fc2b8.json");
  latin1.replace(latin1.find("Chez Jeanne"), 11, "Chez J\xE9" "anne");
  WriteFile("mixed/b-latin1.json", latin1);
  WriteFile("mixed/c-spa.json", testing::ReadFileOrDie(folder + "/30-00a39ffb-490b-3795-8f6c-7c2bb75ffa6a.json"));
  WriteFile("mixed/notes.txt", "not an object");
  r = Atable("import datatourisme " + dir_.Sub("mixed"));
  EXPECT_EQ(1, r.exit_code) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("a-truncated.json: not valid JSON: parse error")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("b-latin1.json: not valid JSON")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("created 0, updated 0, unchanged 2, skipped 0, rejected 0, 2 inputs not read"))
      << r.output;
  r = Atable("offers get dt-resnor050v50lhp5/offer");
  EXPECT_NE(std::string::npos, r.output.find("Title           Chez Jeanne\n")) << "the good copy stays: " << r.output;
  EXPECT_EQ(2, Atable("import datatourisme " + dir_.Sub("absent")).exit_code);
}

TEST_F(CliTest, ImportsTheProjectCsvFormat) {
  StartServer();
  std::string csv = WriteFile("catalog.csv",
      "provider_id,provider_name,commune,postcode,latitude,longitude,offer_id,sub_kind,title,max_persons,"
      "price_min_eur,price_max_eur,price_unit,tags\n"
      "ferme-puy,Ferme du Puy,Salers,15140,45.14,2.49,ferme-puy/visite,gastronomy,Visite et dégustation,20,8,12,"
      "per_person,cheese|farm\n"
      "ferme-puy,,,,,,ferme-puy/gite,self_catering,\"Gîte \"\"Le Fenil\"\"\",5,380,540,per_week,\n");
  CommandResult r = Atable("import offers " + csv);
  ASSERT_EQ(0, r.exit_code) << r.output;
  EXPECT_EQ("created 3, updated 0, unchanged 0, skipped 0, rejected 0\n", r.output);
  r = Atable("import offers " + csv);
  EXPECT_EQ("created 0, updated 0, unchanged 3, skipped 0, rejected 0\n", r.output);
  r = Atable("offers get ferme-puy/gite");
  EXPECT_NE(std::string::npos, r.output.find("Title           Gîte \"Le Fenil\"")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("380.00-540.00 EUR per week")) << r.output;
  std::string bad = WriteFile("bad.csv", "provider_id,provider_name,offer_id,sub_kind,title\n"
                                         "p2,P,p2/a,hotel,Hôtel\np2,P,p2/b,castle,Château\n");
  r = Atable("import offers " + bad);
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.output.find("line 3, column sub_kind: \"castle\" is not a sub-kind")) << r.output;
  EXPECT_EQ(1, Atable("providers get p2").exit_code);  // nothing of the bad file was imported
}

TEST_F(CliTest, ServerRefusesABusyDataFolder) {
  StartServer();
  CommandResult r = RunCommand(absl::StrCat(ATABLE_SERVER_BINARY, " --listen 127.0.0.1:0 --data ", dir_.Sub("data")));
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos, r.output.find("UNAVAILABLE")) << r.output;
}

}  // namespace
}  // namespace atable
