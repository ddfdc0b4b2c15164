#include "server/import_stream.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "server/core/status_macros.h"
#include "server/core/thread_name.h"
#include "server/core/validation.h"
#include "server/core/wire.h"
#include "server/grpc_status.h"
#include "server/raw_unary.h"

namespace atable {
namespace {

// Batches checked and waiting to be written before reading pauses, and batches written and
// waiting to be published before writing pauses.
constexpr size_t kMaxWaitingBatches = 2;
constexpr size_t kMaxUnpublishedBatches = 2;

// Wire tags (field number, length-delimited type) of an import's fields: one byte each.
constexpr uint32_t kRecordsTag = (v1::ImportOffersRequest::kRecordsFieldNumber << 3) | 2;
constexpr uint32_t kProviderTag = (v1::ImportRecord::kProviderFieldNumber << 3) | 2;
constexpr uint32_t kOfferTag = (v1::ImportRecord::kOfferFieldNumber << 3) | 2;

// Records `s` as the reason record `index` was refused: its field, when the message starts with
// one ("offer.prices[0].unit: ..."), and the rest as the reason.
void AddRejection(int64_t index, const std::string& id, const absl::Status& s, std::vector<v1::RejectedRecord>* out) {
  v1::RejectedRecord& r = out->emplace_back();
  r.set_index(index);
  r.set_id(id);
  absl::string_view message = s.message();
  size_t colon = message.find(": ");
  bool names_field = s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kPermissionDenied;
  if (names_field && colon != absl::string_view::npos && message.substr(0, colon).find(' ') == absl::string_view::npos) {
    r.set_field(std::string(message.substr(0, colon)));
    r.set_reason(std::string(message.substr(colon + 2)));
  } else {
    if (colon != absl::string_view::npos && absl::StartsWith(message, "offer.provider_id")) {
      r.set_field("offer.provider_id");
      message = message.substr(colon + 2);
    }
    r.set_reason(std::string(message));
  }
}

// Checked records (the reactor's, where they lie) and their positions in the stream; once
// written, the revision they end at.
struct Batch {
  std::vector<CatalogRecord*> records;
  std::vector<int64_t> positions;
  bool last = false;      // the stream ended after these, or the write failed
  uint64_t revision = 0;  // written, to publish (0: nothing written)
  absl::Status error;     // why the write failed
};

class ImportReactor : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  ImportReactor(CatalogStore* store, Principal who, grpc::ByteBuffer* response, int batch_size)
      : store_(store),
        who_(std::move(who)),
        response_(response),
        batch_size_(static_cast<size_t>(std::max(batch_size, 1))),
        writer_([this] {
          NameThisThread("import-write");
          WriteBatches();
        }),
        publisher_([this] {
          NameThisThread("import-publish");
          PublishBatches();
        }) {
    StartRead(&incoming_);
  }

  // gRPC's thread: checks the message's records; hands a full batch (or the rest, at the end of
  // the stream) to the writer, and reads on unless enough batches are waiting.
  void OnReadDone(bool ok) override {
    Recycle();
    if (ok) {
      CopyBytes(incoming_, &message_);
      TakeMessage(message_);
    }
    if (ok && batch_.records.size() < batch_size_) {
      StartRead(&incoming_);
      return;
    }
    batch_.last = !ok;
    absl::MutexLock lock(&mu_);
    if (ended_) return;  // a write failed: the call is over
    waiting_.push_back(std::move(batch_));
    batch_ = Batch();
    batch_.records.reserve(batch_size_);
    if (!ok) return;
    if (waiting_.size() >= kMaxWaitingBatches) {
      paused_ = true;  // the writer resumes reading when it takes the next batch
      return;
    }
    StartRead(&incoming_);
  }

  void OnDone() override {
    writer_.join();  // it returned after handing over the last batch
    if (publisher_.get_id() == std::this_thread::get_id()) {
      publisher_.detach();  // it returns right after finishing the call
    } else {
      publisher_.join();
    }
    delete this;
  }

 private:
  // Takes the records of one ImportOffersRequest. Each record is parsed on its own, so a bad
  // one (invalid UTF-8, say) is rejected alone.
  void TakeMessage(const std::string& bytes) {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                              static_cast<int>(bytes.size()));
    in.SetTotalBytesLimit(std::numeric_limits<int>::max());
    while (true) {
      uint32_t tag = in.ReadTag();
      if (tag == 0) break;
      uint32_t length = 0;
      int at = 0;
      if (tag == kRecordsTag && in.ReadVarint32(&length) &&
          (at = in.CurrentPosition(), in.Skip(static_cast<int>(length)))) {
        Take(absl::string_view(bytes.data() + at, length));  // parsed where it lies, not copied
      } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
        AddRejection(next_position_++, "",
                     absl::InvalidArgumentError("request: is not a valid atable.v1.ImportOffersRequest message"),
                     &parse_rejected_);
        break;
      }
    }
  }

  // Takes back the records of the batches published since (on gRPC's thread, which parses into
  // them again: their messages keep their strings and lists, so most fields need no allocation).
  void Recycle() {
    std::vector<Batch> spent;
    {
      absl::MutexLock lock(&mu_);
      spent.swap(spent_);
    }
    for (Batch& b : spent) {
      for (CatalogRecord* r : b.records) GiveBack(r);
    }
  }

  // A record for a message of that kind: one that held one before, else one that held the other
  // kind (Parse lets go of its message first), else a new one. So the call keeps no more records
  // than its batches in flight hold at once, and none is let go of while its kind keeps coming.
  CatalogRecord* Reuse(bool provider) {
    std::vector<CatalogRecord*>& of_kind = provider ? provider_pool_ : offer_pool_;
    std::vector<CatalogRecord*>& pool = !of_kind.empty() ? of_kind : provider ? offer_pool_ : provider_pool_;
    if (pool.empty()) {
      CatalogRecord* r = &records_.emplace_back();
      r->is_provider = provider;
      return r;
    }
    CatalogRecord* r = pool.back();
    pool.pop_back();
    return r;
  }

  // Puts a record no batch holds back among those to reuse.
  void GiveBack(CatalogRecord* r) { (r->is_provider ? provider_pool_ : offer_pool_).push_back(r); }

  // Parses one ImportRecord into `record` (one of a published batch's records, or a new one), into
  // its message when the record holds its one message alone (as clients write them), keeping the
  // message's bytes for the store to write as they are; otherwise, or when the bytes are not a
  // valid record, as a whole message, for the same outcome and errors.
  absl::Status Parse(absl::string_view bytes, CatalogRecord* record) {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                              static_cast<int>(bytes.size()));
    const uint32_t tag = in.ReadTag();
    uint32_t length = 0;
    const bool provider = tag == kProviderTag;
    const bool offer = tag == kOfferTag;
    if ((provider || offer) && in.ReadVarint32(&length) &&
        static_cast<size_t>(in.CurrentPosition()) + length == bytes.size()) {
      if (record->is_provider != provider) LetGo(record);
      record->is_provider = provider;
      google::protobuf::Message* m =
          provider ? static_cast<google::protobuf::Message*>(&record->provider) : &record->offer;
      const absl::string_view message = bytes.substr(in.CurrentPosition());
      if (ParseWireMessage(message, m).ok()) {
        record->stored_bytes.assign(message.data(), message.size());
        return absl::OkStatus();
      }
    }
    record->stored_bytes.clear();  // the store serializes what this path parses
    v1::ImportRecord request;
    ATABLE_RETURN_IF_ERROR(ParseWireMessage(bytes, &request));
    switch (request.record_case()) {
      case v1::ImportRecord::kProvider:
        if (!record->is_provider) LetGo(record);
        record->is_provider = true;
        record->provider = std::move(*request.mutable_provider());
        return absl::OkStatus();
      case v1::ImportRecord::kOffer:
        if (record->is_provider) LetGo(record);
        record->is_provider = false;
        record->offer = std::move(*request.mutable_offer());
        return absl::OkStatus();
      default:
        return absl::InvalidArgumentError("record: is required (provider or offer)");
    }
  }

  // Lets go of the memory a record's messages and text hold (before it holds a message of the
  // other kind: a record keeps the memory of one kind only).
  static void LetGo(CatalogRecord* record) {
    record->provider = v1::Provider();
    record->offer = v1::Offer();
    record->offer_text.reset();
    record->provider_text.reset();
    record->stored_bytes = std::string();
  }

  // Validates one record and adds it to the batch, or rejects it. It is parsed into a published
  // batch's record of its kind (its first tag tells), whose message keeps its strings and lists.
  void Take(absl::string_view bytes) {
    int64_t position = next_position_++;
    const bool provider = !bytes.empty() && static_cast<uint8_t>(bytes[0]) == kProviderTag;
    batch_.records.push_back(Reuse(provider));
    CatalogRecord& record = *batch_.records.back();
    absl::Status s = Parse(bytes, &record);
    if (!s.ok()) return Reject(position, "", s);
    record.status = absl::OkStatus();
    record.outcome = WriteOutcome::kUnchanged;
    if (record.is_provider) {
      s = ValidateProvider(record.provider);
      if (s.ok()) s = CheckWritesProvider(who_, record.provider.id(), "provider.id");
      if (!s.ok()) return Reject(position, record.provider.id(), s);
      if (!record.provider_text) record.provider_text.emplace();
      PrepareProviderText(record.provider, &*record.provider_text);
    } else {
      s = ValidateOffer(record.offer);
      if (s.ok()) s = CheckWritesOffer(who_, *store_, record.offer);
      if (!s.ok()) return Reject(position, record.offer.id(), s);
      if (!record.offer_text) record.offer_text.emplace();
      PrepareOfferText(record.offer, &*record.offer_text);  // here, while the writer writes
    }
    batch_.positions.push_back(position);
  }

  // Refuses the record just added to the batch: it leaves the batch.
  void Reject(int64_t position, const std::string& id, const absl::Status& s) {
    AddRejection(position, id, s, &parse_rejected_);
    GiveBack(batch_.records.back());
    batch_.records.pop_back();
  }

  // The writer's thread: writes the batches in turn, leaving their publishing to the publisher,
  // until the last one or until a write fails.
  void WriteBatches() {
    while (true) {
      Batch batch;
      bool resume = false;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](std::deque<Batch>* waiting) { return !waiting->empty(); }, &waiting_));
        batch = std::move(waiting_.front());
        waiting_.pop_front();
        resume = paused_;
        paused_ = false;
      }
      if (resume) StartRead(&incoming_);  // gRPC's thread left off reading: nothing else uses incoming_
      if (!batch.records.empty()) {
        absl::StatusOr<uint64_t> written =
            store_->WriteUnpublished(batch.records, absl::Now(), this);
        if (written.ok()) {
          batch.revision = *written;
        } else {
          batch.error = written.status();
          batch.last = true;
        }
      }
      const bool last = batch.last;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](std::deque<Batch>* written) { return written->size() < kMaxUnpublishedBatches; }, &written_));
        if (!batch.error.ok()) ended_ = true;  // gRPC's thread hands over no more batches
        written_.push_back(std::move(batch));
      }
      if (last) return;
    }
  }

  // The publisher's thread: publishes the written batches in turn (every one, so that the store
  // never waits for a batch left unpublished) and counts their records; at the last one, or at a
  // failed write, finishes the call.
  void PublishBatches() {
    while (true) {
      Batch batch;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](std::deque<Batch>* written) { return !written->empty(); }, &written_));
        batch = std::move(written_.front());
        written_.pop_front();
      }
      if (batch.revision != 0) store_->PublishWritten(batch.records, batch.revision);
      if (batch.error.ok()) Count(batch);
      if (!batch.last) {
        absl::MutexLock lock(&mu_);
        spent_.push_back(std::move(batch));  // for gRPC's thread to reuse
        continue;
      }
      const absl::Status s = batch.error;
      {
        absl::MutexLock lock(&mu_);
        ended_ = true;
        if (s.ok()) {  // the stream's end: gRPC's thread is done with what it rejected
          for (v1::RejectedRecord& r : parse_rejected_) written_rejected_.push_back(std::move(r));
        }
      }
      if (s.ok()) {
        std::sort(written_rejected_.begin(), written_rejected_.end(),
                  [](const v1::RejectedRecord& a, const v1::RejectedRecord& b) { return a.index() < b.index(); });
        summary_.set_rejected(static_cast<int64_t>(written_rejected_.size()));
        for (v1::RejectedRecord& r : written_rejected_) *summary_.add_rejected_records() = std::move(r);
        *response_ = BufferOf(summary_);
      }
      Finish(ToGrpcStatus(s));  // the last use of this object on this thread
      return;
    }
  }

  // Counts what the store did with each record of a written batch.
  void Count(const Batch& batch) {
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const CatalogRecord& r = *batch.records[i];
      if (!r.status.ok()) {
        AddRejection(batch.positions[i], r.is_provider ? r.provider.id() : r.offer.id(), r.status, &written_rejected_);
        continue;
      }
      switch (r.outcome) {
        case WriteOutcome::kCreated: summary_.set_created(summary_.created() + 1); break;
        case WriteOutcome::kUpdated: summary_.set_updated(summary_.updated() + 1); break;
        case WriteOutcome::kUnchanged: summary_.set_unchanged(summary_.unchanged() + 1); break;
      }
    }
  }

  CatalogStore* const store_;
  const Principal who_;
  grpc::ByteBuffer* const response_;
  const size_t batch_size_;

  // gRPC's thread (or the writer's, while reading is paused).
  grpc::ByteBuffer incoming_;
  std::string message_;  // incoming_'s bytes, parsed where they lie
  Batch batch_;  // being filled
  // The call's records, which never move (batches and pools hold their addresses), and those no
  // batch holds, to parse into again, by the kind of message they hold.
  std::deque<CatalogRecord> records_;
  std::vector<CatalogRecord*> provider_pool_, offer_pool_;
  int64_t next_position_ = 0;
  std::vector<v1::RejectedRecord> parse_rejected_;  // handed to the writer with the last batch

  // The publisher's thread.
  v1::ImportOffersResponse summary_;
  std::vector<v1::RejectedRecord> written_rejected_;

  absl::Mutex mu_;
  std::deque<Batch> waiting_ ABSL_GUARDED_BY(mu_);  // checked, to write
  std::deque<Batch> written_ ABSL_GUARDED_BY(mu_);  // written, to publish
  std::vector<Batch> spent_ ABSL_GUARDED_BY(mu_);   // published, for gRPC's thread to reuse
  bool paused_ ABSL_GUARDED_BY(mu_) = false;  // gRPC's thread stopped reading
  bool ended_ ABSL_GUARDED_BY(mu_) = false;   // the call is finished (or finishing)

  // Declared last: they start once everything else is built.
  std::thread writer_;
  std::thread publisher_;
};

}  // namespace

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
