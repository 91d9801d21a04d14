// embedding.cpp — table lookup: a gather forward and a scatter-add backward.
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd head width, F d_ff, V vocab.
//
// Used for the token embedding E (V, d): h = E[token]. The ids are plain ints, not a tensor,
// since they never need a gradient. Ids repeat (every 'e' in a batch reads the same row), so
// the backward adds each dy row into its table row one after another, in id order, on one
// thread: no two threads ever add into the same row and the bits are reproducible.
// Left out: padding ids, max-norm, sparse gradients.
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "glulab/autograd.h"
#include "glulab/ops.h"

namespace glulab {

// ---- embedding ----
// y[i, :] = table[ids[i], :]                 table (V, d), ids (ids_shape) -> (ids_shape..., d)
// dtable[v, :] = sum over i with ids[i] = v of dy[i, :]
Tensor embedding(const Tensor& table, const std::vector<int>& ids, const Shape& ids_shape) {
    const std::string shapes = ", shapes " + table.shape_str() + " and " + shape_to_string(ids_shape);
    if (table.rank() != 2) throw std::invalid_argument("embedding: the table must be (V, d)" + shapes);
    if (ids_shape.empty() || ids_shape.size() > 3)
        throw std::invalid_argument("embedding: ids must have rank 1 to 3 (the output adds d)" + shapes);
    for (int dim : ids_shape)
        if (dim < 1) throw std::invalid_argument("embedding: ids dimensions must be >= 1" + shapes);
    if (shape_numel(ids_shape) != ids.size())
        throw std::invalid_argument("embedding: " + std::to_string(ids.size()) + " ids do not fill their shape" +
                                    shapes);
    const int V = table.size(0);
    const int d = table.size(1);
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= V)
            throw std::invalid_argument("embedding: id " + std::to_string(ids[i]) + " at position " +
                                        std::to_string(i) + " is outside [0, " + std::to_string(V) + ")" + shapes);

    Shape out_shape = ids_shape;
    out_shape.push_back(d);
    Tensor y = Tensor::empty(out_shape);  // (ids_shape..., d)
    const float* td = table.data();
    float* yd = y.data();
    const long n = static_cast<long>(ids.size());
#pragma omp parallel for schedule(static) if (y.numel() > kParallelMinElements)
    for (long i = 0; i < n; ++i) std::memcpy(yd + i * d, td + static_cast<size_t>(ids[i]) * d, d * sizeof(float));

    Buffer<int> saved_ids(ids.begin(), ids.end());  // the caller's ids may be gone by the backward
    return record(y, "embedding", {table}, [table, ids = std::move(saved_ids), d](TensorImpl& out) {
        if (!table.requires_grad()) return;
        const float* dy = out.grad.data();  // (ids_shape..., d)
        float* dtable = table.grad();       // (V, d)
        for (size_t i = 0; i < ids.size(); ++i) {  // in order: repeated ids accumulate reproducibly
            float* dst = dtable + static_cast<size_t>(ids[i]) * d;
            const float* src = dy + i * d;
            for (int j = 0; j < d; ++j) dst[j] += src[j];
        }
    });
}

}  // namespace glulab
