// same_arrays.h — do two lists of named float arrays (a checkpoint's arrays, a safetensors file's
// tensors) hold the same names, shapes and value bits? Shared by the doctest suite and the fuzz
// targets (which are built without doctest): each turns the answer into its own kind of failure.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "glulab/fileio.h"

namespace glulab::testing {

// "" when a and b are the same, else the first difference in words. Bits, not ==: -0 == 0 and
// NaN != NaN would hide exactly what the format tests test.
inline std::string first_difference(const std::vector<NamedArray>& a, const std::vector<NamedArray>& b) {
    if (a.size() != b.size()) return "the number of arrays changed";
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name) return "array " + std::to_string(i) + " changed its name";
        const std::string array = "array '" + a[i].name + "'";
        if (a[i].shape != b[i].shape) return array + " changed its shape";
        const std::vector<float>&x = a[i].values, &y = b[i].values;
        if (x.size() != y.size()) return array + " changed size";
        // memcmp may not be given the null data() of an empty vector.
        if (!x.empty() && std::memcmp(x.data(), y.data(), sizeof(float) * x.size()) != 0)
            return array + " changed its values";
    }
    return "";
}

}  // namespace glulab::testing
