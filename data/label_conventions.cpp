#include "data/label_conventions.h"

#include <algorithm>

#include "core/error.h"

namespace fedglioma::data {

bool LabelConvention::defines(std::uint8_t label) const {
  return label == 0 || std::find(labels.begin(), labels.end(), label) != labels.end();
}

bool LabelConvention::is_tumour(std::uint8_t label) const {
  return std::find(tumour.begin(), tumour.end(), label) != tumour.end();
}

const std::vector<LabelConvention>& label_conventions() {
  static const std::vector<LabelConvention> all = {
      {"", "0/1, or BraTS labels of any release up to 2023 (1, 2, 3, 4 all tumour)", {1, 2, 3, 4}, {1, 2, 3, 4}, {}, {}},
      {"binary", "1 tumour", {1}, {1}, {}, {}},
      {"brats2021", "1 necrotic / non-enhancing core, 2 edema, 4 enhancing tumour", {1, 2, 4}, {1, 2, 4}, {1, 4}, {4}},
      {"brats2023", "1 necrotic core, 2 edema, 3 enhancing tumour", {1, 2, 3}, {1, 2, 3}, {1, 3}, {3}},
      {"brats2024",
       "1 non-enhancing tumour core, 2 surrounding FLAIR hyperintensity, 3 enhancing tumour, 4 resection cavity (not tumour)",
       {1, 2, 3, 4},
       {1, 2, 3},
       {1, 3},
       {3}},
      {"msd", "1 edema, 2 non-enhancing tumour, 3 enhancing tumour", {1, 2, 3}, {1, 2, 3}, {2, 3}, {3}},
  };
  return all;
}

const LabelConvention& label_convention(const std::string& name) {
  std::string names;
  for (const LabelConvention& c : label_conventions()) {
    if (c.name == name) return c;
    if (!c.name.empty()) names += (names.empty() ? "" : ", ") + c.name;
  }
  throw DataError("label convention \"" + name + "\" is not one of " + names + " (or absent)");
}

namespace {

void check_defined(std::uint8_t label, const LabelConvention& convention, const std::string& what) {
  if (!convention.defines(label))
    throw DataError(what + " holds label " + std::to_string(label) + "; expected " +
                    (convention.name.empty() ? "0/1 or BraTS labels 1, 2, 3, 4"
                                             : "the " + convention.name + " labels (" + convention.meaning + ")"));
}

bool in(const std::vector<std::uint8_t>& labels, std::uint8_t label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

}  // namespace

std::vector<std::uint8_t> whole_tumour(const std::vector<std::uint8_t>& labels, const LabelConvention& convention,
                                       const std::string& what) {
  std::vector<std::uint8_t> out(labels.size());
  for (std::size_t v = 0; v < labels.size(); ++v) {
    check_defined(labels[v], convention, what);
    out[v] = convention.is_tumour(labels[v]) ? 1 : 0;
  }
  return out;
}

std::vector<std::uint8_t> tumour_regions(const std::vector<std::uint8_t>& labels, const LabelConvention& convention,
                                         const std::string& what) {
  if (!convention.has_regions())
    throw DataError(what + ": its label convention \"" + convention.name + "\" does not tell the tumour's sub-regions apart");
  std::vector<std::uint8_t> out(labels.size());
  for (std::size_t v = 0; v < labels.size(); ++v) {
    check_defined(labels[v], convention, what);
    const std::uint8_t l = labels[v];
    out[v] = static_cast<std::uint8_t>((convention.is_tumour(l) ? kWholeTumourBit : 0) |
                                       (in(convention.core, l) ? kTumourCoreBit : 0) |
                                       (in(convention.enhancing, l) ? kEnhancingBit : 0));
  }
  return out;
}

std::vector<std::uint8_t> region_mask(const std::vector<std::uint8_t>& codes, std::uint8_t bit) {
  std::vector<std::uint8_t> out(codes.size());
  for (std::size_t v = 0; v < codes.size(); ++v) out[v] = (codes[v] & bit) != 0;
  return out;
}

}  // namespace fedglioma::data
