#include "core/double_text.h"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace fedglioma {

std::int64_t double_bits(double v) {
  std::int64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

double double_from_bits(std::int64_t bits) {
  double v = 0.0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::string doubles_text(const std::vector<double>& values) {
  std::string out;
  char word[24];
  for (double v : values) {
    std::snprintf(word, sizeof word, "%016llx", static_cast<unsigned long long>(double_bits(v)));
    out += (out.empty() ? "" : " ") + std::string(word);
  }
  return out;
}

std::vector<double> doubles_from(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    if (word.size() != 16 || word.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw std::invalid_argument("not a double's bit pattern: '" + word + "'");
    out.push_back(double_from_bits(static_cast<std::int64_t>(std::stoull(word, nullptr, 16))));
  }
  return out;
}

}  // namespace fedglioma
