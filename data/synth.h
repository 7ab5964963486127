#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "data/manifest.h"
#include "data/volume.h"

namespace fedglioma::data {

/// What `fedglioma synth` generates.
struct SynthOptions {
  std::filesystem::path out;   ///< folder that receives the cohort and manifest.json
  int sites = 3;               ///< training sites, named site-a, site-b, ...
  int cases_per_site = 20;
  int external_cases = 20;     ///< cases of the held-out site "external" (0 = none)
  int size = 32;               ///< cubic grid edge, voxels
  std::uint64_t seed = 0;
};

/// Acquisition characteristics of one synthetic site: what makes sites not identically
/// distributed (intensity scale per modality, contrast curve, bias-field strength, noise) and
/// which labels it records and how often each marker is positive.
struct SiteProfile {
  std::string name;
  std::array<double, 4> scale{};  ///< intensity scale per modality (arbitrary scanner units)
  double gamma = 1.0;             ///< contrast curve exponent applied to tissue intensities
  double bias_sd = 0.1;           ///< spread of the smooth multiplicative bias-field coefficients
  double noise = 0.03;            ///< noise sd relative to the modality's scale
  double p_idh_mutant = 0.4;
  bool records_codeletion = true;
  bool records_mgmt = true;
};

/// One synthetic patient: four co-registered modalities, the tumour's labels and the true
/// markers (before a site hides the ones it does not record).
struct SynthCase {
  std::array<FloatVolume, 4> images;  ///< kModalities order
  /// BraTS 2023 labels: 1 necrotic / non-enhancing core, 2 oedema, 3 enhancing tumour (grade 4's
  /// rim, grade 3's patches); their union is the whole tumour
  MaskVolume mask;
  Labels labels;
};

/// The profile of training site `index` (0-based) or of the external site (index = -1),
/// drawn from the cohort seed.
SiteProfile site_profile(int index, int sites, std::uint64_t seed);

/// Draws one case of `site` with `size`^3 voxels from the case seed. Labels have realistic
/// structure (1p/19q co-deletion only when IDH-mutant; IDH-mutant mostly grade 2-3), and each
/// marker has an imaging signature: ring enhancement around necrosis on T1c for grade 4,
/// T2-FLAIR mismatch for IDH-mutant, calcification-like dark foci and a frontal, cortical site
/// for co-deletion, and only a faint, noisy one (slightly less oedema) for MGMT methylation.
SynthCase synthesize_case(const SiteProfile& site, int size, std::uint64_t case_seed);

/// Writes the cohort: `<out>/<site>/<case>/{t1,t1c,t2,flair,mask}.nii.gz` and
/// `<out>/manifest.json` (training sites split "train", the external site "external"; masks
/// with label_convention "brats2023"). The same
/// options give byte-identical files. Returns the manifest path. Throws ConfigError for bad
/// options and IoError when the folder cannot be written.
std::filesystem::path write_synthetic_cohort(const SynthOptions& options);

}  // namespace fedglioma::data
