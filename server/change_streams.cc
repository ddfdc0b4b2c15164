#include "server/change_streams.h"

#include <deque>
#include <future>
#include <limits>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/time_util.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "server/core/validation.h"
#include "server/core/wire.h"
#include "server/grpc_status.h"
#include "server/raw_unary.h"

namespace atable {
namespace {

grpc::ByteBuffer BufferOf(const google::protobuf::Message& message) {
  std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

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

// An ImportOffers call.
class ImportReactor : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  ImportReactor(CatalogStore* store, Principal who, grpc::ByteBuffer* response, int batch_size)
      : store_(store), who_(std::move(who)), response_(response), batch_size_(batch_size) {
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client finished sending
      absl::Status s = Flush();
      if (s.ok()) s = Settle();
      if (s.ok()) *response_ = BufferOf(summary_);
      Finish(ToGrpcStatus(s));
      return;
    }
    TakeMessage(BytesOf(incoming_));
    if (static_cast<int>(batch_.size()) >= batch_size_) {
      absl::Status s = Flush();
      if (!s.ok()) {
        Finish(ToGrpcStatus(s));
        return;
      }
    }
    StartRead(&incoming_);
  }

  void OnDone() override { delete this; }

 private:
  void Reject(int64_t index, const std::string& id, const absl::Status& s) {
    summary_.set_rejected(summary_.rejected() + 1);
    v1::RejectedRecord* r = summary_.add_rejected_records();
    r->set_index(index);
    r->set_id(id);
    absl::string_view message = s.message();
    size_t colon = message.find(": ");
    bool names_field = s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kPermissionDenied;
    if (names_field && colon != absl::string_view::npos &&
        message.substr(0, colon).find(' ') == absl::string_view::npos) {
      r->set_field(std::string(message.substr(0, colon)));
      r->set_reason(std::string(message.substr(colon + 2)));
    } else {
      if (colon != absl::string_view::npos && absl::StartsWith(message, "offer.provider_id")) {
        r->set_field("offer.provider_id");
        message = message.substr(colon + 2);
      }
      r->set_reason(std::string(message));
    }
  }

  // Takes the records of one ImportOffersRequest. Each record is parsed on its own, so a bad
  // one (invalid UTF-8, say) is rejected alone.
  void TakeMessage(const std::string& bytes) {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                              static_cast<int>(bytes.size()));
    in.SetTotalBytesLimit(std::numeric_limits<int>::max());
    while (true) {
      uint32_t tag = in.ReadTag();
      if (tag == 0) break;
      std::string record;
      uint32_t length = 0;
      if (tag == ((v1::ImportOffersRequest::kRecordsFieldNumber << 3) | 2) && in.ReadVarint32(&length) &&
          in.ReadString(&record, static_cast<int>(length))) {
        Take(record);
      } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
        Reject(next_index_++, "", absl::InvalidArgumentError("request: is not a valid atable.v1.ImportOffersRequest message"));
        break;
      }
    }
  }

  // Validates one record and queues it for the next batch, or rejects it.
  void Take(const std::string& bytes) {
    int64_t index = next_index_++;
    v1::ImportRecord request;
    absl::Status s = ParseWireMessage(bytes, &request);
    if (!s.ok()) return Reject(index, "", s);
    CatalogRecord record;
    switch (request.record_case()) {
      case v1::ImportRecord::kProvider:
        record.is_provider = true;
        record.provider = std::move(*request.mutable_provider());
        s = ValidateProvider(record.provider);
        if (s.ok()) s = CheckWritesProvider(who_, record.provider.id(), "provider.id");
        if (!s.ok()) return Reject(index, record.provider.id(), s);
        break;
      case v1::ImportRecord::kOffer:
        record.offer = std::move(*request.mutable_offer());
        s = ValidateOffer(record.offer);
        if (s.ok()) s = CheckWritesOffer(who_, *store_, record.offer);
        if (!s.ok()) return Reject(index, record.offer.id(), s);
        record.offer_text = PrepareOfferText(record.offer);  // here, while the last batch is written
        break;
      default:
        return Reject(index, "", absl::InvalidArgumentError("record: is required (provider or offer)"));
    }
    batch_.push_back(std::move(record));
    batch_index_.push_back(index);
  }

  // Starts writing the queued records on another thread, after counting the batch written
  // before (so reading and checking the next records overlaps with writing these).
  absl::Status Flush() {
    absl::Status s = Settle();
    if (!s.ok() || batch_.empty()) return s;
    writing_ = std::move(batch_);
    writing_index_ = std::move(batch_index_);
    batch_.clear();
    batch_index_.clear();
    written_ = std::async(std::launch::async, [this] { return store_->Write(&writing_, absl::Now()); });
    return absl::OkStatus();
  }

  // Waits for the batch being written, if any, and counts what became of its records.
  absl::Status Settle() {
    if (!written_.valid()) return absl::OkStatus();
    absl::Status s = written_.get();
    if (!s.ok()) return s;
    for (size_t i = 0; i < writing_.size(); ++i) {
      const CatalogRecord& r = writing_[i];
      if (!r.status.ok()) {
        Reject(writing_index_[i], r.is_provider ? r.provider.id() : r.offer.id(), r.status);
        continue;
      }
      switch (r.outcome) {
        case WriteOutcome::kCreated: summary_.set_created(summary_.created() + 1); break;
        case WriteOutcome::kUpdated: summary_.set_updated(summary_.updated() + 1); break;
        case WriteOutcome::kUnchanged: summary_.set_unchanged(summary_.unchanged() + 1); break;
      }
    }
    // Reports stay in stream order even though rejections by the store come per batch.
    std::sort(summary_.mutable_rejected_records()->begin(), summary_.mutable_rejected_records()->end(),
              [](const v1::RejectedRecord& a, const v1::RejectedRecord& b) { return a.index() < b.index(); });
    writing_.clear();
    writing_index_.clear();
    return absl::OkStatus();
  }

  CatalogStore* const store_;
  const Principal who_;
  grpc::ByteBuffer* const response_;
  const int batch_size_;
  grpc::ByteBuffer incoming_;
  std::vector<CatalogRecord> batch_;  // checked, waiting for the next write
  std::vector<int64_t> batch_index_;
  int64_t next_index_ = 0;
  v1::ImportOffersResponse summary_;
  std::vector<CatalogRecord> writing_;  // being written by written_'s thread
  std::vector<int64_t> writing_index_;
  std::future<absl::Status> written_;  // declared last: destroyed first, waiting for the write
};

grpc::ServerReadReactor<grpc::ByteBuffer>* StartImport(CatalogStore* store, const KeyRing* keys,
                                                       grpc::CallbackServerContext* context,
                                                       grpc::ByteBuffer* response, int batch_size) {
  absl::StatusOr<Principal> who = Authorize(keys, *context, Access::kWrite);
  if (!who.ok()) return RefuseStream<grpc::ServerReadReactor<grpc::ByteBuffer>>(who.status());
  return new ImportReactor(store, *std::move(who), response, batch_size);
}

absl::Status CheckWritesOffer(const Principal& who, const CatalogStore& store, const v1::Offer& offer) {
  absl::Status s = CheckWritesProvider(who, offer.provider_id(), "offer.provider_id");
  if (!s.ok() || who.role == v1::ROLE_ORGANIZER) return s;
  absl::StatusOr<v1::Offer> stored = store.GetOffer(offer.id());
  if (stored.ok() && stored->provider_id() != offer.provider_id()) {
    return absl::PermissionDeniedError(absl::StrCat("offer.id: ", offer.id(), " belongs to provider ",
                                                    stored->provider_id()));
  }
  return absl::OkStatus();
}

}  // namespace atable
