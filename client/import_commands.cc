#include "client/import_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "atable/v1/catalog.grpc.pb.h"
#include "client/format.h"
#include "google/protobuf/util/json_util.h"
#include "server/core/atout_france.h"
#include "server/core/communes.h"

namespace atable::cli {
namespace {

struct Args {
  std::string file;
  std::string communes = std::string(ATABLE_CLIENT_DATA_DIR) + "/laposte-communes-auvergne.csv";
};

// Streams records to ImportOffers in messages of 500, with a progress line on a terminal, and
// prints the summary. Exit code: 0, or 1 when a record was rejected.
int Send(const GlobalOptions& options, const std::vector<v1::ImportRecord>& records, int skipped,
         const std::vector<std::string>& notes) {
  Client client(options);
  auto stub = v1::Catalog::NewStub(client.channel());
  auto context = client.Context(/*streaming=*/true);
  v1::ImportOffersResponse summary;
  auto writer = stub->ImportOffers(context.get(), &summary);
  bool tty = isatty(2);
  auto start = std::chrono::steady_clock::now();
  v1::ImportOffersRequest message;
  for (size_t i = 0; i < records.size(); ++i) {
    *message.add_records() = records[i];
    if (message.records_size() == 500 || i + 1 == records.size()) {
      if (!writer->Write(message)) break;
      message.clear_records();
      if (tty) {
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double rate = (i + 1) / std::max(seconds, 1e-6);
        std::fprintf(stderr, "\rimporting %zu/%zu records, %.0f/s, %.0f s left   ", i + 1, records.size(), rate,
                     (records.size() - i - 1) / rate);
      }
    }
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (tty) std::fprintf(stderr, "\n");
  if (!s.ok()) return client.Fail(s);
  if (options.json) {
    std::printf("%s\n", ToJson(summary).c_str());
  } else {
    std::printf("created %lld, updated %lld, unchanged %lld, skipped %d, rejected %lld\n",
                static_cast<long long>(summary.created()), static_cast<long long>(summary.updated()),
                static_cast<long long>(summary.unchanged()), skipped, static_cast<long long>(summary.rejected()));
    for (const std::string& note : notes) std::printf("%s\n", note.c_str());
    for (const v1::RejectedRecord& r : summary.rejected_records()) {
      std::printf("rejected record %lld%s%s: %s%s%s\n", static_cast<long long>(r.index()), r.id().empty() ? "" : " ",
                  r.id().c_str(), r.field().c_str(), r.field().empty() ? "" : ": ", r.reason().c_str());
    }
  }
  return summary.rejected() > 0 ? kExitFailed : kExitOk;
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
  return Send(options, records, 0, notes);
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
  return Send(options, records, skipped, {});
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
      "offers", "Records in JSON Lines: one {\"provider\": {...}} or {\"offer\": {...}} per line (atable.v1 JSON)\n"
                "  example: atable import offers catalog.jsonl");
  offers->add_option("file", args->file, "JSON Lines file, - for standard input")->required();
  offers->callback([&options, exit_code, args] { *exit_code = ImportJsonLines(options, *args); });
}

}  // namespace atable::cli
