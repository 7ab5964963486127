#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fedglioma {

/// A double's bit pattern and back: what a checkpoint keeps of a clock or an account, so that a
/// resumed run continues from the same bits.
std::int64_t double_bits(double v);
double double_from_bits(std::int64_t bits);

/// Doubles as text, each its bit pattern in hexadecimal, separated by spaces; doubles_from reads
/// it back and throws std::invalid_argument on anything else.
std::string doubles_text(const std::vector<double>& values);
std::vector<double> doubles_from(const std::string& text);

}  // namespace fedglioma
