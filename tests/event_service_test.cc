// Event days through gRPC: events, streamed schedule builds, re-planning and agendas, against a
// real server on an OS-picked port with the demo catalog and the demo Cantal day.
#include <map>
#include <set>
#include <thread>

#include "atable/v1/matchmaking.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/test_util.h"

namespace atable {
namespace {

class EventServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.require_keys = false;  // keys and roles: auth_test
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.demo_dir = testing::ProjectPath("server/demo");
    auto server = AtableServer::Start(options);
    ASSERT_OK(server);
    server_ = *std::move(server);
    stub_ = v1::Matchmaking::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  // Runs BuildSchedule; returns the status, the schedule and the number of progress messages.
  grpc::Status Build(const v1::BuildScheduleRequest& request, v1::EventSchedule* schedule, int* progress = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    auto reader = stub_->BuildSchedule(&context, request);
    v1::BuildScheduleResponse message;
    int n = 0;
    while (reader->Read(&message)) {
      if (message.has_progress()) ++n;
      if (message.has_schedule()) *schedule = message.schedule();
    }
    if (progress) *progress = n;
    return reader->Finish();
  }

  // Hard constraints of a schedule of the demo day: no one twice in a slot, one meeting per table
  // and slot, buyers at their own table, nobody in a forbidden slot.
  static std::string Violation(const v1::Event& e, const v1::EventSchedule& s) {
    std::set<std::pair<std::string, int>> busy;
    std::set<std::pair<int, int>> tables;
    std::map<std::string, std::set<int>> forbidden;
    for (const auto& p : e.participants()) {
      for (int f : p.forbidden_slots()) forbidden[p.id()].insert(f);
      for (int t = 1; t < p.arrival_slot(); ++t) forbidden[p.id()].insert(t);
      for (int t = p.departure_slot() + 1; p.departure_slot() > 0 && t <= e.slots().count(); ++t) forbidden[p.id()].insert(t);
    }
    std::map<std::string, int> buyer_table;
    for (const auto& m : s.meetings()) {
      for (const std::string& who : {m.a(), m.b()}) {
        if (!busy.insert({who, m.slot()}).second) return who + " twice in slot " + std::to_string(m.slot());
        if (forbidden[who].count(m.slot())) return who + " in a forbidden slot";
      }
      if (!tables.insert({m.slot(), m.table()}).second) return "two meetings at one table";
      if (m.table() < 1 || m.table() > e.tables()) return "table out of range";
      auto [it, added] = buyer_table.emplace(m.a(), m.table());
      if (!added && it->second != m.table()) return m.a() + " changed table";
    }
    return "";
  }

  testing::TempDir dir_;
  std::unique_ptr<AtableServer> server_;
  std::unique_ptr<v1::Matchmaking::Stub> stub_;
};

TEST_F(EventServiceTest, BuildsTheDemoDayAndServesAgendas) {
  grpc::ClientContext get_context;
  v1::GetEventRequest get;
  get.set_id("cantal-2026");
  v1::Event event;
  ASSERT_TRUE(stub_->GetEvent(&get_context, get, &event).ok());
  EXPECT_EQ(190, event.participants_size());

  v1::GetAgendaRequest agenda_request;
  agenda_request.set_event_id("cantal-2026");
  v1::Agenda agenda;
  {
    grpc::ClientContext c;
    EXPECT_EQ(grpc::StatusCode::FAILED_PRECONDITION, stub_->GetAgenda(&c, agenda_request, &agenda).error_code());
  }

  v1::BuildScheduleRequest request;
  request.set_event_id("cantal-2026");
  request.set_seed(7);
  v1::EventSchedule schedule;
  int progress = 0;
  grpc::Status s = Build(request, &schedule, &progress);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(progress, 0);
  EXPECT_GT(schedule.meetings_size(), 400);
  EXPECT_EQ("", Violation(event, schedule));
  EXPECT_LE(schedule.idle_gaps_lower_bound(), schedule.idle_gaps());
  EXPECT_LE(schedule.value(), schedule.value_bound());

  // Same seed, same schedule.
  v1::EventSchedule again;
  ASSERT_TRUE(Build(request, &again).ok());
  EXPECT_EQ(schedule.SerializeAsString(), again.SerializeAsString());

  {
    grpc::ClientContext c;
    agenda_request.set_participant_id("demo-giftbox");
    ASSERT_TRUE(stub_->GetAgenda(&c, agenda_request, &agenda).ok());
    ASSERT_GT(agenda.items_size(), 3);
    EXPECT_EQ(3, agenda.items(0).table());  // the third buyer keeps table 3
    EXPECT_FALSE(agenda.items(0).with_name().empty());
    for (int i = 1; i < agenda.items_size(); ++i) EXPECT_LT(agenda.items(i - 1).slot(), agenda.items(i).slot());
  }
  {
    grpc::ClientContext c;
    agenda_request.clear_participant_id();
    ASSERT_TRUE(stub_->GetAgenda(&c, agenda_request, &agenda).ok());
    EXPECT_EQ(40, agenda.rows_size());
    EXPECT_EQ(22, agenda.slot_starts_size());
    EXPECT_EQ("13:30", agenda.slot_starts(14));  // after lunch
    int cells = 0;
    for (const auto& row : agenda.rows()) for (const auto& c : row.cells()) cells += !c.empty();
    EXPECT_EQ(schedule.meetings_size(), cells);
  }
}

TEST_F(EventServiceTest, ReplanningKeepsHeldMeetingsAndMovesFew) {
  v1::BuildScheduleRequest request;
  request.set_event_id("cantal-2026");
  v1::EventSchedule first;
  ASSERT_TRUE(Build(request, &first).ok());
  // demo-ce's first provider did not come; slots 1-6 are over.
  std::string absent;
  for (const auto& m : first.meetings()) if (m.a() == "demo-ce" && absent.empty()) absent = m.b();
  ASSERT_FALSE(absent.empty());
  request.set_replan(true);
  request.set_held_slots(6);
  request.add_absent(absent);
  v1::EventSchedule second;
  grpc::Status s = Build(request, &second);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::set<std::tuple<std::string, std::string, int>> now;
  for (const auto& m : second.meetings()) now.emplace(m.a(), m.b(), m.slot());
  int dropped = 0;
  for (const auto& m : first.meetings()) {
    if (m.a() == absent || m.b() == absent) {
      ++dropped;
      continue;
    }
    if (m.slot() <= 6) {
      EXPECT_TRUE(now.count({m.a(), m.b(), m.slot()})) << m.a() << "-" << m.b() << " held at " << m.slot();
    }
  }
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(first.meetings_size() - dropped, second.meetings_size());
  EXPECT_LE(second.moved(), second.meetings_size() / 10) << "moved " << second.moved();
}

// Long calls beyond the server's limit are refused at once, and the limit frees up when they end.
TEST_F(EventServiceTest, LongCallsBeyondTheLimitAreRefused) {
  ServerOptions options;
  options.require_keys = false;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir_.Sub("limited");
  options.demo_dir = testing::ProjectPath("server/demo");
  options.max_long_calls = 1;
  auto server = AtableServer::Start(options);
  ASSERT_OK(server);
  auto stub = v1::Matchmaking::NewStub(grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));

  grpc::ClientContext building;
  v1::BuildScheduleRequest build;
  build.set_event_id("cantal-2026");
  build.set_time_limit_seconds(60);
  auto reader = stub->BuildSchedule(&building, build);
  v1::BuildScheduleResponse message;
  ASSERT_TRUE(reader->Read(&message));  // the build is running
  ASSERT_TRUE(message.has_progress());

  grpc::ClientContext suggest_context;
  v1::SuggestPairsResponse pairs;
  grpc::Status s = stub->SuggestPairs(&suggest_context, v1::SuggestPairsRequest(), &pairs);
  EXPECT_EQ(grpc::StatusCode::RESOURCE_EXHAUSTED, s.error_code());
  EXPECT_NE(std::string::npos, s.error_message().find("retry later")) << s.error_message();
  grpc::ClientContext second_build;
  auto second = stub->BuildSchedule(&second_build, build);
  while (second->Read(&message)) {
  }
  EXPECT_EQ(grpc::StatusCode::RESOURCE_EXHAUSTED, second->Finish().error_code());

  building.TryCancel();
  while (reader->Read(&message)) {
  }
  reader->Finish();
  // Once the build has stopped, the next long call runs.
  for (int i = 0; i < 250; ++i) {
    grpc::ClientContext context;
    s = stub->SuggestPairs(&context, v1::SuggestPairsRequest(), &pairs);
    if (s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(pairs.pairs_size(), 0);
}

TEST_F(EventServiceTest, RefusesBadEventsAndUnknownIds) {
  v1::UpsertEventRequest put;
  put.mutable_event()->set_id("bad");
  put.mutable_event()->mutable_slots()->set_count(10);
  put.mutable_event()->set_tables(2);
  auto* p = put.mutable_event()->add_participants();
  p->set_id("x");
  p->set_role("king");
  v1::Event out;
  grpc::ClientContext c1;
  grpc::Status s = stub_->UpsertEvent(&c1, put, &out);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("event.participants[0].role: must be provider, buyer or participant", s.error_message());
  p->set_role("buyer");
  p->add_forbidden_slots(11);
  grpc::ClientContext c2;
  EXPECT_EQ("event.participants[0].forbidden_slots[0]: slot 11 is not in 1-10", stub_->UpsertEvent(&c2, put, &out).error_message());

  v1::BuildScheduleRequest request;
  request.set_event_id("nope");
  v1::EventSchedule schedule;
  s = Build(request, &schedule);
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, s.error_code());
  EXPECT_EQ("event nope not found", s.error_message());
  request.set_event_id("cantal-2026");
  request.set_replan(true);
  EXPECT_EQ(grpc::StatusCode::FAILED_PRECONDITION, Build(request, &schedule).error_code());
}

// close_gaps: the exact step proves the fewest gaps, so the lower bound meets the count; without
// it the bound is the simple one.
TEST_F(EventServiceTest, ClosingGapsProvesTheFewest) {
  v1::UpsertEventRequest put;
  v1::Event* e = put.mutable_event();
  e->set_id("small");
  e->mutable_slots()->set_start("09:00");
  e->mutable_slots()->set_minutes(15);
  e->mutable_slots()->set_count(8);
  e->mutable_slots()->set_morning_count(4);
  e->set_tables(3);
  for (int i = 1; i <= 6; ++i) {
    v1::EventParticipant* p = e->add_participants();
    p->set_id(absl::StrCat("p", i));
    p->set_role("participant");
    if (i == 1) p->add_forbidden_slots(3);
    if (i == 3) p->add_forbidden_slots(6);
  }
  for (int a = 1; a <= 6; ++a) {
    for (int b = a + 1; b <= 6; ++b) {
      v1::EventMeeting* m = e->add_meetings();
      m->set_a(absl::StrCat("p", a));
      m->set_b(absl::StrCat("p", b));
    }
  }
  v1::Event stored;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->UpsertEvent(&context, put, &stored).ok());
  v1::BuildScheduleRequest request;
  request.set_event_id("small");
  v1::EventSchedule plain, closed;
  ASSERT_TRUE(Build(request, &plain).ok());
  request.set_close_gaps(true);
  ASSERT_TRUE(Build(request, &closed).ok());
  EXPECT_EQ(15, closed.meetings_size());
  std::set<std::pair<std::string, int>> busy;
  for (const auto& m : closed.meetings()) {
    EXPECT_TRUE(busy.insert({m.a(), m.slot()}).second && busy.insert({m.b(), m.slot()}).second);
    EXPECT_LE(m.table(), 3);
  }
  EXPECT_EQ(0, plain.idle_gaps_lower_bound());
  EXPECT_GT(closed.idle_gaps(), 0);
  EXPECT_EQ(closed.idle_gaps(), closed.idle_gaps_lower_bound());
  EXPECT_LE(closed.idle_gaps(), plain.idle_gaps());
}

}  // namespace
}  // namespace atable
