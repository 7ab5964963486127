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

// The number of axes of `io`'s image, trailing singleton axes left out.
unsigned image_rank(const itk::ImageIOBase& io) {
  unsigned dims = io.GetNumberOfDimensions();
  while (dims > 3 && io.GetDimensions(dims - 1) == 1) --dims;
  return dims;
}

// ITK's reading of `path`'s header.
itk::ImageIOBase::Pointer read_information(const fs::path& path) {
  auto io = itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
  if (!io) throw DataError("'" + path.string() + "': not a readable image (expected NIfTI .nii/.nii.gz)");
  io->SetFileName(path.string());
  try {
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw DataError("'" + path.string() + "': unreadable image header: " + e.GetDescription());
  }
  return io;
}

// Opens `path`'s header (fedglioma's own checks, then ITK's). A 4-D series is refused with a
// message instead of ITK silently reading its first volume, unless `channel` asks for one of its
// volumes; so is a vector image. Nothing past the header is decompressed.
itk::ImageIOBase::Pointer open_header(const fs::path& path, std::optional<NiftiHeader>& header, int channel = -1) {
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
  auto io = read_information(path);
  const unsigned dims = image_rank(*io);
  if (channel < 0 && dims != 3)
    throw DataError("'" + path.string() + "': expected a 3D image, found " + std::to_string(dims) + " dimensions");
  if (channel >= 0 && (dims != 4 || static_cast<std::size_t>(channel) >= io->GetDimensions(3)))
    throw DataError("'" + path.string() + "': expected a 4-D image with a volume " + std::to_string(channel) +
                    ", found " + std::to_string(dims) + " dimensions" +
                    (dims == 4 ? " and " + std::to_string(io->GetDimensions(3)) + " volumes" : std::string()));
  if (io->GetNumberOfComponents() != 1)
    throw DataError("'" + path.string() + "': expected one scalar per voxel, found " +
                    std::to_string(io->GetNumberOfComponents()) + " components");
  return io;
}

// Before ITK reads the voxels: the file holds all of them, and a float file none that is NaN or
// infinite.
void check_is_3d(const fs::path& path, int channel = -1) {
  std::optional<NiftiHeader> header;
  const auto io = open_header(path, header, channel);
  check_complete(path, static_cast<std::uint64_t>(io->GetImageSizeInBytes()));
  if (header) check_finite(path, *header);
}

template <typename T, unsigned N = 3>
typename itk::Image<T, N>::Pointer read_itk(const fs::path& path, int channel = -1) {
  check_is_3d(path, channel);
  auto reader = itk::ImageFileReader<itk::Image<T, N>>::New();
  reader->SetFileName(path.string());
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    throw DataError("'" + path.string() + "': cannot read image data (truncated or corrupt?): " +
                    e.GetDescription());
  }
  return reader->GetOutput();
}

// Volume `channel` of a 4-D image: its first three axes' grid, and its voxels, which lie
// consecutively (the fourth axis runs slowest).
FloatVolume read_volume_of_4d(const fs::path& path, int channel) {
  const auto image = read_itk<float, 4>(path, channel);
  FloatVolume out;
  for (unsigned d = 0; d < 3; ++d) {
    out.geometry.size[d] = static_cast<std::int64_t>(image->GetLargestPossibleRegion().GetSize()[d]);
    out.geometry.spacing[d] = image->GetSpacing()[d];
    out.geometry.origin[d] = image->GetOrigin()[d];
    for (unsigned c = 0; c < 3; ++c) out.geometry.direction[d * 3 + c] = image->GetDirection()(d, c);
  }
  const auto n = static_cast<std::size_t>(out.geometry.voxel_count());
  const float* first = image->GetBufferPointer() + static_cast<std::size_t>(channel) * n;
  out.voxels.assign(first, first + n);
  return out;
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

std::array<double, 3> Geometry::world(double i, double j, double k) const {
  std::array<double, 3> p{};
  const double idx[3] = {i * spacing[0], j * spacing[1], k * spacing[2]};
  for (int r = 0; r < 3; ++r)
    p[r] = origin[r] + direction[r * 3] * idx[0] + direction[r * 3 + 1] * idx[1] + direction[r * 3 + 2] * idx[2];
  return p;
}

Geometry read_geometry(const fs::path& path, int channel) {
  std::optional<NiftiHeader> header;
  const auto io = open_header(path, header, channel);
  Geometry g;
  for (unsigned d = 0; d < 3; ++d) {
    g.size[d] = static_cast<std::int64_t>(io->GetDimensions(d));
    g.spacing[d] = io->GetSpacing(d);
    g.origin[d] = io->GetOrigin(d);
    for (unsigned c = 0; c < 3; ++c) g.direction[d * 3 + c] = io->GetDirection(c)[d];  // column c: axis c
  }
  return g;
}

int read_volume_count(const fs::path& path) {
  register_nifti();
  if (!fs::is_regular_file(path)) throw DataError("'" + path.string() + "': file does not exist");
  if (const auto header = read_nifti_header(path)) {  // before ITK, which aborts on some headers
    check_header_extent(*header, path);
    check_header_geometry(*header, path);
  }
  const auto io = read_information(path);
  return image_rank(*io) == 4 ? static_cast<int>(io->GetDimensions(3)) : 1;
}

FloatVolume read_image(const fs::path& path, int channel) {
  FloatVolume out;
  if (channel >= 0) {
    out = read_volume_of_4d(path, channel);
  } else {
    const auto image = read_itk<float>(path);
    out.geometry = geometry_of(*image);
    const float* buffer = image->GetBufferPointer();
    out.voxels.assign(buffer, buffer + out.geometry.voxel_count());
  }
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
