#include "server/change_streams.h"

#include <deque>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "server/core/wire.h"
#include "server/grpc_status.h"
#include "server/raw_unary.h"

namespace atable {
namespace {

constexpr size_t kChangesPerRead = 256;

}  // namespace

std::string ResumeToken(uint64_t revision) { return absl::StrCat("c", revision); }

bool ParseResumeToken(const std::string& token, uint64_t* revision) {
  if (token.empty()) {
    *revision = 0;
    return true;
  }
  return token[0] == 'c' && absl::SimpleAtoi(absl::string_view(token).substr(1), revision);
}

// A ListChanges call. Reads the change log in batches, skips changes that a later change of the
// same entity supersedes (the later one delivers the entity's value), and, when following, sleeps
// until the notifier says something was committed.
class ChangeStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  ChangeStream(CatalogStore* store, ChangeNotifier* notifier, uint64_t after, bool follow)
      : store_(store), notifier_(notifier), after_(after), follow_(follow) {
    if (follow_) notifier_->Add(this);
    absl::MutexLock lock(&mu_);
    Pump();
  }

  // New commits: resume if idle.
  void Wake() {
    absl::MutexLock lock(&mu_);
    if (!writing_ && !finished_) Pump();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      Done(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    queue_.pop_front();
    Pump();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!writing_) Done(grpc::Status::CANCELLED);
    cancelled_ = true;
  }

  void OnDone() override {
    if (follow_) notifier_->Remove(this);
    // Wait for whoever still holds the lock (it may have just called Finish) before going.
    mu_.Lock();
    mu_.Unlock();
    delete this;
  }

 private:
  // Writes the next change, reading more when the queue is empty; finishes at the end of the log
  // unless following.
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_) return;
    if (cancelled_) return Done(grpc::Status::CANCELLED);
    while (queue_.empty()) {
      absl::StatusOr<std::vector<ChangeRecord>> changes = store_->ReadChanges(after_, kChangesPerRead);
      if (!changes.ok()) return Done(ToGrpcStatus(changes.status()));
      if (changes->empty()) {
        if (!follow_) Done(grpc::Status::OK);
        return;  // a commit will wake us
      }
      for (const ChangeRecord& c : *changes) {
        after_ = c.revision;
        v1::Change change;
        change.set_resume_token(ResumeToken(c.revision));
        *change.mutable_commit_time() =
            google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(c.commit_time));
        change.set_type(c.deleted ? v1::CHANGE_TYPE_DELETE : v1::CHANGE_TYPE_UPSERT);
        bool provider = c.entity == ChangeRecord::Entity::kProvider;
        if (c.deleted) {
          if (provider) {
            change.mutable_provider()->set_id(c.id);
          } else {
            change.mutable_offer()->set_id(c.id);
          }
        } else if (provider) {
          absl::StatusOr<v1::Provider> p = store_->GetProvider(c.id);
          if (!p.ok() || p->etag() != absl::StrCat(c.revision)) continue;  // superseded
          *change.mutable_provider() = *std::move(p);
        } else {
          absl::StatusOr<v1::Offer> o = store_->GetOffer(c.id);
          if (!o.ok() || o->etag() != absl::StrCat(c.revision)) continue;  // superseded
          *change.mutable_offer() = *std::move(o);
        }
        queue_.push_back(BufferOf(change));
      }
    }
    writing_ = true;
    StartWrite(&queue_.front());
  }

  void Done(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  CatalogStore* const store_;
  ChangeNotifier* const notifier_;
  absl::Mutex mu_;
  uint64_t after_ ABSL_GUARDED_BY(mu_);
  const bool follow_;
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

ChangeNotifier::ChangeNotifier(CatalogStore* store) {
  store->AddCommitListener([this](uint64_t) { Notify(); });
}

void ChangeNotifier::Add(ChangeStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.insert(stream);
}

void ChangeNotifier::Remove(ChangeStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

void ChangeNotifier::Notify() {
  absl::MutexLock lock(&mu_);
  for (ChangeStream* s : streams_) s->Wake();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* StartChangeStream(CatalogStore* store, const KeyRing* keys,
                                                              ChangeNotifier* notifier,
                                                              grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request) {
  v1::ListChangesRequest req;
  absl::Status s = Authorize(keys, *context, Access::kRead).status();
  if (s.ok()) s = ParseWireMessage(BytesOf(*request), &req);
  uint64_t after = 0;
  if (s.ok() && !ParseResumeToken(req.resume_token(), &after)) {
    s = absl::InvalidArgumentError("resume_token: is not a token this server gave");
  }
  if (s.ok() && after > store->revision()) {
    s = absl::InvalidArgumentError("resume_token: is ahead of this server's catalog");
  }
  if (!s.ok()) return RefuseStream<grpc::ServerWriteReactor<grpc::ByteBuffer>>(s);
  return new ChangeStream(store, notifier, after, req.follow());
}

}  // namespace atable
