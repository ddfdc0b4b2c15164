#include "server/event_service.h"

#include <atomic>
#include <deque>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/auth.h"
#include "server/core/schedule/event_file.h"
#include "server/core/schedule/solver.h"
#include "server/core/status_macros.h"
#include "server/core/validation.h"
#include "server/core/wire.h"
#include "server/grpc_status.h"
#include "server/raw_unary.h"
#include "server/matchmaking_service.h"

namespace atable {
namespace {

// The event as the solver reads it; errors name fields from the request's `event`.
absl::StatusOr<schedule::Event> ReadEvent(const v1::Event& e) {
  absl::StatusOr<schedule::Event> event = schedule::EventFromProto(e);
  if (!event.ok()) return absl::InvalidArgumentError(absl::StrCat("event.", event.status().message()));
  return event;
}

// A server stream fed from another thread: Push queues a message, Close finishes after the
// queue. Deleted when both gRPC and the producer are done with it.
class StreamWriter : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  void Push(const google::protobuf::Message& message) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(BufferOf(message));
    if (!writing_ && !done_) Next();
  }
  void Close(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    status_ = status;
    if (!writing_ && !done_) Next();
  }
  // The producer is done with the writer.
  void Release() { Unref(); }
  bool cancelled() const { return cancelled_.load(); }
  const std::atomic<bool>* cancel_flag() const { return &cancelled_; }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) {
      cancelled_ = true;
      queue_.clear();
    }
    Next();
  }
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    Unref();
  }

 private:
  void Next() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (!queue_.empty()) {
      writing_ = true;
      StartWrite(&queue_.front());
    } else if (closing_) {
      finished_ = true;
      Finish(status_);
    }
  }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  absl::Mutex mu_;
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> cancelled_{false};
  std::atomic<int> refs_{2};  // gRPC's and the producer's
};

// Builds the problem of a schedule request: the meetings given, or re-planned from the current
// schedule, or candidates from the requests (and suggestions).
absl::Status Prepare(CatalogStore* store, const v1::BuildScheduleRequest& request, schedule::Event* event,
                     schedule::SolveOptions* options) {
  schedule::Problem& p = event->problem;
  std::set<std::string> absent(request.absent().begin(), request.absent().end());
  std::map<std::string, int> index;
  for (size_t i = 0; i < p.participants.size(); ++i) index[p.participants[i].id] = static_cast<int>(i);
  for (const std::string& id : absent) {
    if (!index.count(id)) return absl::InvalidArgumentError(absl::StrCat("absent: ", id, " is not a participant of the event"));
  }
  if (request.replan()) {
    absl::StatusOr<v1::EventSchedule> previous = store->GetSchedule(request.event_id());
    if (absl::IsNotFound(previous.status())) {
      return absl::FailedPreconditionError(absl::StrCat("event ", request.event_id(), " has no schedule to re-plan; build one first"));
    }
    ATABLE_RETURN_IF_ERROR(previous.status());
    std::set<std::pair<std::string, std::string>> refused;
    for (const auto& [a, b] : event->refusals) refused.insert(std::minmax(a, b));
    std::vector<schedule::Meeting> kept;
    for (const v1::ScheduledMeeting& m : previous->meetings()) {
      auto a = index.find(m.a()), b = index.find(m.b());
      if (a == index.end() || b == index.end() || absent.count(m.a()) || absent.count(m.b()) ||
          refused.count(std::minmax(m.a(), m.b()))) {
        continue;  // cancelled: someone left, is absent, or refused it
      }
      schedule::Meeting x;
      x.a = a->second;
      x.b = b->second;
      x.value = 1;
      x.origin = m.origin();
      if (m.slot() <= request.held_slots()) x.fixed_slot = m.slot() - 1;  // already happened
      kept.push_back(x);
      options->previous.push_back({m.a(), m.b(), m.slot() - 1});
    }
    // Meetings the organizers added since.
    std::set<std::pair<std::string, std::string>> present;
    for (const auto& m : kept) present.insert(std::minmax(p.participants[m.a].id, p.participants[m.b].id));
    for (const schedule::Meeting& m : p.meetings) {
      if (!present.count(std::minmax(p.participants[m.a].id, p.participants[m.b].id))) kept.push_back(m);
    }
    p.meetings = std::move(kept);
    return absl::OkStatus();
  }
  if (!p.meetings.empty()) {
    std::vector<schedule::Meeting> kept;
    for (const auto& m : p.meetings) {
      if (!absent.count(p.participants[m.a].id) && !absent.count(p.participants[m.b].id)) kept.push_back(m);
    }
    p.meetings = std::move(kept);
    return absl::OkStatus();
  }
  ATABLE_ASSIGN_OR_RETURN(p.candidates, schedule::RequestCandidates(*event));
  if (request.use_suggestions()) {
    // Matchmaking scores between the event's buyers and providers known to the catalog.
    v1::SuggestPairsRequest suggest;
    for (const auto& q : p.participants) {
      if (absent.count(q.id)) continue;
      if (q.role == schedule::Role::kBuyer && store->GetBuyer(q.id).ok()) suggest.add_buyer_ids(q.id);
      if (q.role == schedule::Role::kProvider && store->GetProvider(q.id).ok()) suggest.add_provider_ids(q.id);
    }
    for (const auto& [a, b] : event->refusals) {
      v1::MeetingRequest* r = suggest.add_refusals();
      r->set_from(a);
      r->set_to(b);
    }
    suggest.set_top_per_buyer(std::min(200, p.slots));
    suggest.set_top_per_provider(std::min(200, p.slots));
    if (suggest.buyer_ids_size() > 0 && suggest.provider_ids_size() > 0) {
      v1::SuggestPairsResponse pairs;
      ATABLE_RETURN_IF_ERROR(SuggestPairsFromStore(*store, suggest, &pairs));
      std::set<std::pair<int, int>> requested;
      for (const auto& c : p.candidates) requested.emplace(c.buyer, c.provider);
      for (const v1::PairSuggestion& s : pairs.pairs()) {
        int buyer = index.at(s.buyer_id()), provider = index.at(s.provider_id());
        if (requested.count({buyer, provider})) continue;
        p.candidates.push_back({buyer, provider, 10 * s.score(), absl::StrCat("suggested: ", s.reason())});
      }
    }
  }
  for (auto& c : p.candidates) {  // absent participants meet no one
    if (absent.count(p.participants[c.buyer].id) || absent.count(p.participants[c.provider].id)) c.value = 0;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status UpsertEventImpl(CatalogStore* store, const v1::UpsertEventRequest& request, v1::Event* response) {
  if (!request.has_event()) return absl::InvalidArgumentError("event: is required");
  ATABLE_RETURN_IF_ERROR(ValidateId("event.id", request.event().id()));
  if (request.event().participants_size() > 10000) return absl::InvalidArgumentError("event.participants: more than 10000");
  if (request.event().meetings_size() + request.event().requests_size() + request.event().refusals_size() > 200000) {
    return absl::InvalidArgumentError("event.meetings: more than 200000 meetings, requests and refusals");
  }
  ATABLE_RETURN_IF_ERROR(ReadEvent(request.event()).status());
  ATABLE_ASSIGN_OR_RETURN(auto written, store->UpsertEvent(request.event()));
  *response = std::move(written.value);
  return absl::OkStatus();
}

absl::Status GetEventImpl(CatalogStore* store, const v1::GetEventRequest& request, v1::Event* response) {
  ATABLE_RETURN_IF_ERROR(ValidateId("id", request.id()));
  ATABLE_ASSIGN_OR_RETURN(*response, store->GetEvent(request.id()));
  return absl::OkStatus();
}

absl::Status GetAgendaImpl(CatalogStore* store, const v1::GetAgendaRequest& request, v1::Agenda* response) {
  ATABLE_RETURN_IF_ERROR(ValidateId("event_id", request.event_id()));
  ATABLE_ASSIGN_OR_RETURN(v1::Event stored, store->GetEvent(request.event_id()));
  absl::StatusOr<v1::EventSchedule> schedule = store->GetSchedule(request.event_id());
  if (absl::IsNotFound(schedule.status())) {
    return absl::FailedPreconditionError(absl::StrCat("event ", request.event_id(), " has no schedule yet; build it first"));
  }
  ATABLE_RETURN_IF_ERROR(schedule.status());
  ATABLE_ASSIGN_OR_RETURN(schedule::Event event, ReadEvent(stored));
  for (schedule::Participant& q : event.problem.participants) {  // names from the catalog when the event has none
    if (!q.name.empty()) continue;
    if (absl::StatusOr<v1::Provider> p = store->GetProvider(q.id); p.ok()) q.name = p->name();
    else if (absl::StatusOr<v1::Buyer> b = store->GetBuyer(q.id); b.ok()) q.name = b->name();
  }
  ATABLE_ASSIGN_OR_RETURN(*response, schedule::AgendaOf(event, *schedule, request.participant_id()));
  return absl::OkStatus();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* StartBuildSchedule(CatalogStore* store, Background* background,
                                                               grpc::CallbackServerContext* context,
                                                               const grpc::ByteBuffer* request) {
  std::string bytes = BytesOf(*request);
  auto* writer = new StreamWriter();
  bool started = background->TryRun([store, writer, bytes = std::move(bytes)] {
    auto build = [&]() -> absl::Status {
      v1::BuildScheduleRequest req;
      ATABLE_RETURN_IF_ERROR(ParseWireMessage(bytes, &req));
      ATABLE_RETURN_IF_ERROR(ValidateId("event_id", req.event_id()));
      if (req.time_limit_seconds() < 0 || req.time_limit_seconds() > 3600) {
        return absl::InvalidArgumentError("time_limit_seconds: must be in 0-3600");
      }
      ATABLE_ASSIGN_OR_RETURN(v1::Event stored, store->GetEvent(req.event_id()));
      ATABLE_ASSIGN_OR_RETURN(schedule::Event event, ReadEvent(stored));
      schedule::SolveOptions options;
      ATABLE_RETURN_IF_ERROR(Prepare(store, req, &event, &options));
      options.seed = req.seed() == 0 ? 1 : req.seed();
      if (req.close_gaps()) options.gap_conflicts = schedule::SolveOptions::kCloseGapsConflicts;
      options.deadline = absl::Now() + absl::Seconds(req.time_limit_seconds() == 0 ? 60 : req.time_limit_seconds());
      options.cancel = writer->cancel_flag();
      options.progress = [writer](const schedule::Progress& p) {
        v1::BuildScheduleResponse message;
        v1::BuildProgress* progress = message.mutable_progress();
        progress->set_phase(p.phase);
        progress->set_fraction(p.fraction);
        progress->set_placed(p.placed);
        progress->set_unplaced(p.unplaced);
        progress->set_idle_gaps(p.idle_gaps);
        writer->Push(message);
      };
      ATABLE_ASSIGN_OR_RETURN(schedule::Schedule result, schedule::Solve(event.problem, options));
      v1::BuildScheduleResponse last;
      *last.mutable_schedule() = schedule::ScheduleProto(event, result);
      last.mutable_schedule()->set_seed(options.seed);
      ATABLE_RETURN_IF_ERROR(store->PutSchedule(last.schedule()));
      writer->Push(last);
      return absl::OkStatus();
    };
    writer->Close(ToGrpcStatus(build()));
    writer->Release();
  });
  if (!started) {
    delete writer;  // never handed to gRPC
    return RefuseStream<grpc::ServerWriteReactor<grpc::ByteBuffer>>(absl::ResourceExhaustedError(kBusyMessage));
  }
  return writer;
}

}  // namespace atable
