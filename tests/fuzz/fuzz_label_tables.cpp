// The label-table readers (CSV): the first byte picks the dataset's reader, the rest is the table.
#include "data/label_tables.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto path = fedglioma::fuzz::input_file(data + 1, size - 1, "labels.csv");
  return fedglioma::fuzz::expect_refusal_or_success([&] {
    namespace d = fedglioma::data;
    switch (data[0] % 7) {
      case 0: d::read_ucsf_pdgm_table(path); break;
      case 1: d::read_ucsf_pdgm_brats21_ids(path); break;
      case 2: d::read_upenn_gbm_table(path); break;
      case 3: d::read_rsna_mgmt_table(path); break;
      case 4: d::read_fets_partitions(path); break;
      case 5: d::read_tcga_table(path); break;
      default: d::read_egd_table(path); break;
    }
  });
}
