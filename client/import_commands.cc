#include "client/import_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "atable/v1/catalog.grpc.pb.h"
#include "client/format.h"
#include "google/protobuf/util/json_util.h"
#include "server/core/atout_france.h"
#include "server/core/communes.h"
#include "server/core/datatourisme.h"
#include "server/core/offers_csv.h"

namespace atable::cli {
namespace {

struct Args {
  std::string file;
  std::vector<std::string> paths;
  std::string format;  // import offers: "csv" or "jsonl"; empty: from the file name
  std::string communes = std::string(ATABLE_CLIENT_DATA_DIR) + "/laposte-communes-auvergne.csv";
};

// One ImportOffers stream: records go out in messages of 500 as they are added, so an import of
// any size holds one message in memory. Shows progress on a terminal and prints the summary.
class ImportStream {
 public:
  explicit ImportStream(const GlobalOptions& options)
      : client_(options),
        stub_(v1::Catalog::NewStub(client_.channel())),
        context_(client_.Context(/*streaming=*/true)),
        writer_(stub_->ImportOffers(context_.get(), &summary_)),
        tty_(isatty(2)),
        start_(std::chrono::steady_clock::now()) {}

  // Names the source of the records added from now on, for the rejection list.
  void SetSource(std::string source) { sources_.emplace_back(added_, std::move(source)); }

  // Queues a record; false once the server closed the stream (Finish says why).
  bool Add(v1::ImportRecord record) {
    *message_.add_records() = std::move(record);
    ++added_;
    return message_.records_size() < 500 || Flush();
  }

  // On a terminal: "<unit> done/total, rate/s, time left".
  void Progress(const char* unit, size_t done, size_t total) {
    if (!tty_) return;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double rate = done / std::max(seconds, 1e-6);
    std::fprintf(stderr, "\rimporting: %zu/%zu %s, %zu records, %.0f %s/s, %.0f s left   ", done, total, unit,
                 added_, rate, unit, (total - done) / std::max(rate, 1e-9));
  }

  // Closes the stream and prints the summary. Exit code: 0, or 1 when a record was rejected or
  // `failed` inputs could not be read.
  int Finish(int skipped, int failed, const std::vector<std::string>& notes) {
    bool ok = message_.records_size() == 0 || Flush();
    if (ok) writer_->WritesDone();
    grpc::Status s = writer_->Finish();
    if (tty_) std::fprintf(stderr, "\n");
    if (!s.ok()) return client_.Fail(s);
    if (client_.options().json) {
      std::printf("%s\n", ToJson(summary_).c_str());
    } else {
      std::printf("created %lld, updated %lld, unchanged %lld, skipped %d, rejected %lld%s\n",
                  static_cast<long long>(summary_.created()), static_cast<long long>(summary_.updated()),
                  static_cast<long long>(summary_.unchanged()), skipped,
                  static_cast<long long>(summary_.rejected()),
                  failed > 0 ? absl::StrCat(", ", failed, " inputs not read").c_str() : "");
      for (const std::string& note : notes) std::printf("%s\n", note.c_str());
      for (const v1::RejectedRecord& r : summary_.rejected_records()) {
        std::printf("rejected record %lld%s%s%s: %s%s%s\n", static_cast<long long>(r.index()),
                    r.id().empty() ? "" : " ", r.id().c_str(), SourceOf(r.index()).c_str(), r.field().c_str(),
                    r.field().empty() ? "" : ": ", r.reason().c_str());
      }
    }
    return summary_.rejected() > 0 || failed > 0 ? kExitFailed : kExitOk;
  }

 private:
  bool Flush() {
    bool ok = writer_->Write(message_);
    message_.clear_records();
    return ok;
  }

  std::string SourceOf(int64_t index) const {
    std::string source;
    for (const auto& [first, name] : sources_) {
      if (static_cast<int64_t>(first) > index) break;
      source = name;
    }
    return source.empty() ? "" : absl::StrCat(" (", source, ")");
  }

  Client client_;
  std::unique_ptr<v1::Catalog::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  v1::ImportOffersResponse summary_;
  std::unique_ptr<grpc::ClientWriter<v1::ImportOffersRequest>> writer_;
  v1::ImportOffersRequest message_;
  size_t added_ = 0;
  std::vector<std::pair<size_t, std::string>> sources_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

// Sends records read whole from one file (the file was checked before anything is sent).
int Send(const GlobalOptions& options, std::vector<v1::ImportRecord> records, int skipped,
         const std::vector<std::string>& notes) {
  ImportStream stream(options);
  for (size_t i = 0; i < records.size(); ++i) {
    if (!stream.Add(std::move(records[i]))) break;
    if ((i + 1) % 500 == 0 || i + 1 == records.size()) stream.Progress("records", i + 1, records.size());
  }
  return stream.Finish(skipped, 0, notes);
}

int ImportAtoutFrance(const GlobalOptions& options, const Args& a) {
  std::string csv, gazetteer;
  if (!ReadInput(a.file, &csv) || !ReadInput(a.communes, &gazetteer)) return kExitUsage;
  absl::StatusOr<CommuneIndex> communes = CommuneIndex::FromCsv(gazetteer);
  if (!communes.ok()) {
    std::fprintf(stderr, "atable: %s: %s\n", a.communes.c_str(), std::string(communes.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<std::vector<AtoutFranceRecord>> rows = ParseAtoutFranceCsv(csv);
  if (!rows.ok()) {  // nothing is sent from a file that does not read
    std::fprintf(stderr, "atable: %s: %s\n", a.file.c_str(), std::string(rows.status().message()).c_str());
    return kExitUsage;
  }
  size_t read = rows->size();
  std::vector<AtoutFranceRecord> merged = DeduplicateAtoutFrance(*std::move(rows));
  std::vector<v1::ImportRecord> records;
  std::vector<std::string> notes;
  notes.push_back(absl::StrCat(read, " rows read, ", read - merged.size(), " merged as reclassifications of the same establishment"));
  for (const AtoutFranceRecord& r : merged) {
    CatalogEntry e = AtoutFranceToCatalog(r, *communes);
    if (!e.placed) {
      notes.push_back(absl::StrCat("not placed (no commune ", r.commune, " with postcode ", r.postcode,
                                   "): line ", r.line, " ", e.provider.id()));
    }
    *records.emplace_back().mutable_provider() = std::move(e.provider);
    *records.emplace_back().mutable_offer() = std::move(e.offer);
  }
  return Send(options, std::move(records), 0, notes);
}

// The project's JSON Lines format: one ImportRecord per line ({"provider": {...}} or {"offer": {...}},
// protobuf's JSON mapping); blank lines and lines starting with # are skipped.
int ImportJsonLines(const GlobalOptions& options, const Args& a) {
  std::string text;
  if (!ReadInput(a.file, &text)) return kExitUsage;
  std::vector<v1::ImportRecord> records;
  int skipped = 0, line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') {
      if (end != text.size()) ++skipped;
      if (end == text.size()) break;
      continue;
    }
    v1::ImportRecord record;
    auto status = google::protobuf::util::JsonStringToMessage(line, &record);
    if (!status.ok() || record.record_case() == v1::ImportRecord::RECORD_NOT_SET) {
      // The whole file is read before anything is sent: a bad line imports nothing.
      std::fprintf(stderr, "atable: %s: line %d: not an import record (%s)\n", a.file.c_str(), line_no,
                   status.ok() ? "expected {\"provider\": ...} or {\"offer\": ...}" : status.ToString().c_str());
      return kExitUsage;
    }
    records.push_back(std::move(record));
    if (end == text.size()) break;
  }
  return Send(options, std::move(records), skipped, {});
}

// The project's CSV format (docs/import-formats.md): read and checked whole before anything is sent.
int ImportCsv(const GlobalOptions& options, const Args& a) {
  std::string text;
  if (!ReadInput(a.file, &text)) return kExitUsage;
  absl::StatusOr<std::vector<v1::ImportRecord>> records = ParseOffersCsv(text);
  if (!records.ok()) {
    std::fprintf(stderr, "atable: %s: %s\n", a.file.c_str(), std::string(records.status().message()).c_str());
    return kExitUsage;
  }
  return Send(options, *std::move(records), 0, {});
}

int ImportOffers(const GlobalOptions& options, const Args& a) {
  std::string format = a.format;
  if (format.empty()) format = absl::EndsWithIgnoreCase(a.file, ".csv") ? "csv" : "jsonl";
  return format == "csv" ? ImportCsv(options, a) : ImportJsonLines(options, a);
}

// DATAtourisme: the .json files of every path (folders walked recursively, in name order), read
// and sent one file at a time. A file that does not read is reported and nothing of it is sent.
int ImportDatatourisme(const GlobalOptions& options, const Args& a) {
  std::vector<std::filesystem::path> files;
  for (const std::string& path : a.paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
      }
      if (ec) {
        std::fprintf(stderr, "atable: %s: %s\n", path.c_str(), ec.message().c_str());
        return kExitUsage;
      }
    } else if (std::filesystem::is_regular_file(path, ec)) {
      files.emplace_back(path);
    } else {
      std::fprintf(stderr, "atable: %s: no such file or folder\n", path.c_str());
      return kExitUsage;
    }
  }
  std::sort(files.begin(), files.end());
  ImportStream stream(options);
  std::vector<std::string> notes;
  int skipped = 0, failed = 0, unplaced = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string name = files[i].string();
    std::string text;
    absl::StatusOr<std::vector<DatatourismeObject>> objects =
        ReadInput(name, &text) ? ParseDatatourisme(text)
                               : absl::StatusOr<std::vector<DatatourismeObject>>(absl::NotFoundError("not read"));
    if (!objects.ok()) {
      ++failed;
      std::fprintf(stderr, "%satable: %s: %s\n", isatty(2) ? "\n" : "", name.c_str(),
                   std::string(objects.status().message()).c_str());
      continue;
    }
    stream.SetSource(files[i].filename().string());
    bool open = true;
    for (DatatourismeObject& o : *objects) {
      if (!o.skip_reason.empty()) {
        ++skipped;
        notes.push_back(absl::StrCat("skipped ", files[i].filename().string(), ": ", o.skip_reason));
        continue;
      }
      if (!o.placed) ++unplaced;
      v1::ImportRecord provider, offer;
      *provider.mutable_provider() = std::move(o.provider);
      *offer.mutable_offer() = std::move(o.offer);
      open = stream.Add(std::move(provider)) && stream.Add(std::move(offer));
      if (!open) break;
    }
    stream.Progress("files", i + 1, files.size());
    if (!open) break;
  }
  if (unplaced > 0) notes.push_back(absl::StrCat(unplaced, " offers without coordinates"));
  notes.insert(notes.begin(), absl::StrCat(files.size(), " files read"));
  return stream.Finish(skipped, failed, notes);
}

}  // namespace

void AddImportCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto args = std::make_shared<Args>();
  CLI::App* import = app.add_subcommand("import", "Import providers and offers into the catalog")->require_subcommand(1);
  CLI::App* af = import->add_subcommand(
      "atout-france", "Atout France's export of classified accommodation (semicolon-separated CSV); records are\n"
                      "placed by postcode and commune; a reclassified establishment becomes one offer\n"
                      "  example: atable import atout-france hebergements-classes.csv");
  af->add_option("file", args->file, "The export (CSV), - for standard input")->required();
  af->add_option("--communes", args->communes, "Gazetteer insee,name,postcode,lat,lon")->capture_default_str();
  af->callback([&options, exit_code, args] { *exit_code = ImportAtoutFrance(options, *args); });
  CLI::App* offers = import->add_subcommand(
      "offers", "The project's formats (docs/import-formats.md): CSV, one offer per row with its provider's\n"
                "columns; or JSON Lines, one {\"provider\": {...}} or {\"offer\": {...}} per line (atable.v1 JSON)\n"
                "  example: atable import offers catalog.csv");
  offers->add_option("file", args->file, "CSV or JSON Lines file, - for standard input")->required();
  offers->add_option("--format", args->format, "csv or jsonl (default: from the file name, .csv or not)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  offers->callback([&options, exit_code, args] { *exit_code = ImportOffers(options, *args); });
  CLI::App* dt = import->add_subcommand(
      "datatourisme", "DATAtourisme JSON-LD objects: files, or folders of them (walked recursively); objects\n"
                      "that are not offers (events...) are skipped and counted\n"
                      "  example: atable import datatourisme flux-12345/objects/");
  dt->add_option("paths", args->paths, "Files or folders of .json objects")->required();
  dt->callback([&options, exit_code, args] { *exit_code = ImportDatatourisme(options, *args); });
}

}  // namespace atable::cli
