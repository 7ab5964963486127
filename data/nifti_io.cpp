#include "data/nifti_io.h"

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageIOBase.h>
#include <itkImageIOFactory.h>
#include <itkNiftiImageIOFactory.h>
#include <itkLinearInterpolateImageFunction.h>
#include <itkNearestNeighborInterpolateImageFunction.h>
#include <itkResampleImageFilter.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "data/nifti_header.h"

// niftilib (ITK's copy, libITKniftiio) prints its errors to stderr unless told otherwise.
extern "C" void nifti_set_debug_level(int level);

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

template <typename T>
using ItkImage = itk::Image<T, 3>;

// NIfTI is the one format fedglioma reads and writes; its factory is registered explicitly, once,
// instead of through ITK's CMake-generated registration of every IO module.
void register_nifti() {
  static std::once_flag once;
  std::call_once(once, [] {
    itk::NiftiImageIOFactory::RegisterOneFactory();
    // fedglioma reports every failure itself, as one line naming the file: ITK's warnings and
    // niftilib's "** ERROR: ..." lines on stderr would only duplicate (or confuse) it.
    itk::Object::GlobalWarningDisplayOff();
    nifti_set_debug_level(0);
  });
}

// .nii and .nii.gz hold header and voxels in one file; .hdr/.img pairs keep them apart.
bool is_single_file_nifti(const fs::path& path) {
  const std::string name = path.filename().string();
  const auto ends_with = [&](const std::string& tail) {
    return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends_with(".nii") || ends_with(".nii.gz");
}

// ITK's NIfTI reader accepts a truncated file and fills the missing voxels with zeros, so the
// length is checked here: an uncompressed file must hold the header and every voxel; a gzip
// file's trailer (ISIZE: the uncompressed length mod 2^32) must account for every voxel plus a
// header of at most 1 MiB of extensions. A cut-off gzip file ends in arbitrary compressed bytes,
// which pass that test with a probability of about 1 in 4000.
void check_complete(const fs::path& path, std::uint64_t voxel_bytes) {
  if (!is_single_file_nifti(path)) return;
  std::error_code ec;
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) throw DataError("'" + path.string() + "': cannot read its size: " + ec.message());
  const std::string truncated = "'" + path.string() + "': file is truncated or corrupt (expected " +
                                std::to_string(voxel_bytes) + " bytes of voxel data)";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw DataError("'" + path.string() + "': not readable");
  unsigned char magic[2] = {0, 0}, trailer[4] = {0, 0, 0, 0};
  const bool got_magic = std::fread(magic, 1, 2, f) == 2;
  const bool gzip = got_magic && magic[0] == 0x1f && magic[1] == 0x8b;
  bool got_trailer = false;
  if (gzip && size >= 18 && std::fseek(f, -4, SEEK_END) == 0) got_trailer = std::fread(trailer, 1, 4, f) == 4;
  std::fclose(f);
  if (!gzip) {
    if (size < 348 + voxel_bytes) throw DataError(truncated);
    return;
  }
  if (!got_trailer) throw DataError(truncated);
  const std::uint64_t isize = trailer[0] | (trailer[1] << 8) | (trailer[2] << 16) | (std::uint64_t{trailer[3]} << 24);
  const std::uint64_t expected = (voxel_bytes + 348) & 0xFFFFFFFFULL;
  const std::uint64_t extra = (isize - expected) & 0xFFFFFFFFULL;  // header beyond 348 bytes, mod 2^32
  if (extra > (1u << 20)) throw DataError(truncated);
}

// ITK's NIfTI reader turns NaN and infinite voxels into 0, so a float file is scanned here, in its
// stored form, before ITK reads it: a non-finite intensity is an error, never a silent 0. zlib's
// gzread reads plain .nii files as they are. Only float32/float64 voxels (NIfTI datatype 16/64,
// read from the header: ITK reports scaled integer files as float too) can be non-finite.
void check_finite(const fs::path& path, const NiftiHeader& header) {
  if (!is_single_file_nifti(path)) return;
  const bool f32 = header.datatype == 16, f64 = header.datatype == 64;
  if (!f32 && !f64) return;
  std::uint64_t voxel_bytes = f32 ? 4 : 8;
  const int rank = std::clamp<int>(header.dim[0], 1, 7);
  for (int d = 1; d <= rank; ++d) voxel_bytes *= static_cast<std::uint64_t>(std::max<std::int16_t>(1, header.dim[d]));
  const float vox_offset = header.vox_offset >= 348.0f ? header.vox_offset : 352.0f;
  const bool swapped = header.swapped;
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw DataError("'" + path.string() + "': not readable");
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{file};
  const std::string corrupt = "'" + path.string() + "': file is truncated or corrupt";
  if (gzseek(file, static_cast<z_off_t>(vox_offset), SEEK_SET) < 0) throw DataError(corrupt);

  const std::size_t width = f32 ? 4 : 8;
  std::vector<unsigned char> chunk(std::size_t{1} << 22);
  std::uint64_t index = 0, remaining = voxel_bytes;
  while (remaining > 0) {
    const auto want = static_cast<unsigned>(std::min<std::uint64_t>(remaining, chunk.size()));
    if (gzread(file, chunk.data(), want) != static_cast<int>(want)) throw DataError(corrupt);
    for (std::size_t at = 0; at < want; at += width, ++index) {
      bool finite;
      if (f32) {
        std::uint32_t bits;
        std::memcpy(&bits, &chunk[at], 4);
        finite = ((swapped ? __builtin_bswap32(bits) : bits) & 0x7F800000u) != 0x7F800000u;
      } else {
        std::uint64_t bits;
        std::memcpy(&bits, &chunk[at], 8);
        finite = ((swapped ? __builtin_bswap64(bits) : bits) & 0x7FF0000000000000ull) != 0x7FF0000000000000ull;
      }
      if (!finite)
        throw DataError("'" + path.string() + "': voxel " + std::to_string(index) +
                        " is NaN or infinite (expected finite intensities)");
    }
    remaining -= want;
  }
}

// Opens `path`'s header (fedglioma's own checks, then ITK's), refusing a 4D series or a vector
// image with a message instead of ITK silently reading its first volume. Nothing past the header
// is decompressed.
itk::ImageIOBase::Pointer open_header(const fs::path& path, std::optional<NiftiHeader>& header) {
  register_nifti();
  if (!fs::exists(path)) throw DataError("'" + path.string() + "': file does not exist");
  if (!fs::is_regular_file(path))
    throw DataError("'" + path.string() + "' is not a regular file (a folder, device or pipe); expected a NIfTI file");
  // ITK aborts the process on a non-finite or singular geometry, and would decompress whatever
  // size the header declares: the header is checked first.
  header = read_nifti_header(path);
  if (header) {
    check_header_extent(*header, path);
    check_header_geometry(*header, path);
  }
  auto io = itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
  if (!io)
    throw DataError("'" + path.string() + "': not a readable image (expected NIfTI .nii/.nii.gz)");
  io->SetFileName(path.string());
  try {
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw DataError("'" + path.string() + "': unreadable image header: " + e.GetDescription());
  }
  unsigned dims = io->GetNumberOfDimensions();
  while (dims > 3 && io->GetDimensions(dims - 1) == 1) --dims;  // trailing singleton axes
  if (dims != 3)
    throw DataError("'" + path.string() + "': expected a 3D image, found " +
                    std::to_string(dims) + " dimensions");
  if (io->GetNumberOfComponents() != 1)
    throw DataError("'" + path.string() + "': expected one scalar per voxel, found " +
                    std::to_string(io->GetNumberOfComponents()) + " components");
  return io;
}

// Before ITK reads the voxels: the file holds all of them, and a float file none that is NaN or
// infinite.
void check_is_3d(const fs::path& path) {
  std::optional<NiftiHeader> header;
  const auto io = open_header(path, header);
  check_complete(path, static_cast<std::uint64_t>(io->GetImageSizeInBytes()));
  if (header) check_finite(path, *header);
}

template <typename T>
typename ItkImage<T>::Pointer read_itk(const fs::path& path) {
  check_is_3d(path);
  auto reader = itk::ImageFileReader<ItkImage<T>>::New();
  reader->SetFileName(path.string());
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    throw DataError("'" + path.string() + "': cannot read image data (truncated or corrupt?): " +
                    e.GetDescription());
  }
  return reader->GetOutput();
}

template <typename T>
Geometry geometry_of(const ItkImage<T>& image) {
  Geometry g;
  const auto size = image.GetLargestPossibleRegion().GetSize();
  for (unsigned d = 0; d < 3; ++d) {
    g.size[d] = static_cast<std::int64_t>(size[d]);
    g.spacing[d] = image.GetSpacing()[d];
    g.origin[d] = image.GetOrigin()[d];
    for (unsigned c = 0; c < 3; ++c) g.direction[d * 3 + c] = image.GetDirection()(d, c);
  }
  return g;
}

// A Geometry in ITK's types: the one place where the two descriptions of a grid meet.
struct ItkGrid {
  itk::Size<3> size;
  itk::Vector<double, 3> spacing;
  itk::Point<double, 3> origin;
  itk::Matrix<double, 3, 3> direction;

  explicit ItkGrid(const Geometry& g) {
    for (unsigned d = 0; d < 3; ++d) {
      size[d] = static_cast<itk::SizeValueType>(g.size[d]);
      spacing[d] = g.spacing[d];
      origin[d] = g.origin[d];
      for (unsigned c = 0; c < 3; ++c) direction(d, c) = g.direction[d * 3 + c];
    }
  }
};

template <typename T>
typename ItkImage<T>::Pointer to_itk(const Volume<T>& volume) {
  const ItkGrid grid(volume.geometry);
  auto image = ItkImage<T>::New();
  image->SetRegions(typename ItkImage<T>::RegionType(grid.size));
  image->SetSpacing(grid.spacing);
  image->SetOrigin(grid.origin);
  image->SetDirection(grid.direction);
  image->Allocate();
  std::copy(volume.voxels.begin(), volume.voxels.end(), image->GetBufferPointer());
  return image;
}

template <typename T>
void write_itk(const fs::path& path, const Volume<T>& volume) {
  if (static_cast<std::int64_t>(volume.voxels.size()) != volume.geometry.voxel_count())
    throw IoError("'" + path.string() + "': voxel buffer does not match the geometry");
  // The temporary keeps the extension, which tells ITK the format and the compression.
  const std::string name = path.filename().string();
  const auto dot = name.find('.');
  const std::string ext = dot == std::string::npos ? "" : name.substr(dot);
  const fs::path tmp = path.parent_path() /
                       (".tmp" + std::to_string(static_cast<long>(::getpid())) + "." + name.substr(0, dot) + ext);
  register_nifti();
  auto writer = itk::ImageFileWriter<ItkImage<T>>::New();
  writer->SetFileName(tmp.string());
  writer->SetInput(to_itk(volume));
  writer->SetUseCompression(true);
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    fs::remove(tmp);
    throw IoError("cannot write '" + path.string() + "': " + e.GetDescription());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp);
    throw IoError("cannot write '" + path.string() + "': " + ec.message());
  }
}

}  // namespace

bool Geometry::same_grid(const Geometry& other, double tolerance) const {
  for (int d = 0; d < 3; ++d) {
    if (size[d] != other.size[d]) return false;
    if (std::abs(spacing[d] - other.spacing[d]) > tolerance * std::abs(spacing[d])) return false;
    if (std::abs(origin[d] - other.origin[d]) > std::max(tolerance, 1e-3 * spacing[d])) return false;
  }
  for (int i = 0; i < 9; ++i)
    if (std::abs(direction[i] - other.direction[i]) > 1e-3) return false;
  return true;
}

Geometry read_geometry(const fs::path& path) {
  std::optional<NiftiHeader> header;
  const auto io = open_header(path, header);
  Geometry g;
  for (unsigned d = 0; d < 3; ++d) {
    g.size[d] = static_cast<std::int64_t>(io->GetDimensions(d));
    g.spacing[d] = io->GetSpacing(d);
    g.origin[d] = io->GetOrigin(d);
    for (unsigned c = 0; c < 3; ++c) g.direction[d * 3 + c] = io->GetDirection(c)[d];  // column c: axis c
  }
  return g;
}

FloatVolume read_image(const fs::path& path) {
  auto image = read_itk<float>(path);
  FloatVolume out;
  out.geometry = geometry_of(*image);
  const float* buffer = image->GetBufferPointer();
  out.voxels.assign(buffer, buffer + out.geometry.voxel_count());
  for (std::size_t i = 0; i < out.voxels.size(); ++i)
    if (!std::isfinite(out.voxels[i]))
      throw DataError("'" + path.string() + "': non-finite voxel value (NaN or Inf) at index " +
                      std::to_string(i));
  return out;
}

MaskVolume read_labels(const fs::path& path) {
  // Labels are read as float so that a label file stored as float (common) is checked for
  // whole-number values instead of being truncated.
  const FloatVolume raw = read_image(path);
  MaskVolume out;
  out.geometry = raw.geometry;
  out.voxels.resize(raw.voxels.size());
  for (std::size_t i = 0; i < raw.voxels.size(); ++i) {
    // Scaled integer files (scl_slope/scl_inter) give values a rounding error away from whole
    // numbers, e.g. 0.99999997; anything further off is not a label.
    const float v = raw.voxels[i];
    const float whole = std::nearbyint(v);
    if (whole < 0.0f || whole > 255.0f || std::abs(v - whole) > 1e-4f)
      throw DataError("'" + path.string() + "': label value " + std::to_string(v) +
                      " is not a whole number in [0, 255]");
    out.voxels[i] = static_cast<std::uint8_t>(whole);
  }
  return out;
}

void write_image(const fs::path& path, const FloatVolume& volume) { write_itk(path, volume); }

void write_labels(const fs::path& path, const MaskVolume& volume) { write_itk(path, volume); }

FloatVolume resample(const FloatVolume& source, const Geometry& target, Interpolation interpolation) {
  using Image = ItkImage<float>;
  auto filter = itk::ResampleImageFilter<Image, Image>::New();
  filter->SetInput(to_itk(source));
  if (interpolation == Interpolation::kNearest) {
    filter->SetInterpolator(itk::NearestNeighborInterpolateImageFunction<Image, double>::New());
  } else {
    filter->SetInterpolator(itk::LinearInterpolateImageFunction<Image, double>::New());
  }
  const ItkGrid grid(target);
  filter->SetSize(grid.size);
  filter->SetOutputSpacing(grid.spacing);
  filter->SetOutputOrigin(grid.origin);
  filter->SetOutputDirection(grid.direction);
  filter->SetDefaultPixelValue(0.0f);
  filter->SetNumberOfWorkUnits(1);  // parallelism is across cases; one thread here keeps it reproducible
  try {
    filter->Update();
  } catch (const itk::ExceptionObject& e) {
    throw DataError(std::string("resampling failed: ") + e.GetDescription());
  }
  FloatVolume out;
  out.geometry = target;
  const float* buffer = filter->GetOutput()->GetBufferPointer();
  out.voxels.assign(buffer, buffer + target.voxel_count());
  return out;
}

}  // namespace fedglioma::data
