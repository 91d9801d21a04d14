// params.cpp — counting and zeroing over the parameter registry.
#include "glulab/params.h"

namespace glulab {

size_t count_parameters(const ParameterList& params) {
    size_t n = 0;
    for (const Parameter& p : params) n += p.value.numel();
    return n;
}

void zero_gradients(ParameterList& params) {
    for (Parameter& p : params) p.value.zero_grad();
}

}  // namespace glulab
