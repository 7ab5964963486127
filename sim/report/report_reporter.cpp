#include "sim/report/report_reporter.h"

#include <exception>

#include "core/atomic_file.h"
#include "sim/report/report_html.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;

class ReportReporter : public Reporter {
 public:
  ReportReporter(fs::path run_dir, std::ostream& console) : run_dir_(std::move(run_dir)), console_(console) {}
  void finish(const std::vector<RoundRecord>&, const RunTiming&) override {
    try {
      write_file_atomic(run_dir_ / "report.html", report_html(run_dir_));
    } catch (const std::exception& e) {
      console_ << "fedglioma: warning: report.html not written (" << e.what() << "); `fedglioma report "
               << run_dir_.string() << "` writes it\n";
    }
  }

 private:
  fs::path run_dir_;
  std::ostream& console_;
};

}  // namespace

std::unique_ptr<Reporter> report_reporter(fs::path run_dir, std::ostream& console) {
  return std::make_unique<ReportReporter>(std::move(run_dir), console);
}

}  // namespace fedglioma::sim
