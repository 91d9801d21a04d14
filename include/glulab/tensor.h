// tensor.h — the one data structure: an n-d array of float32 with an optional gradient.
//
// Legend used in shape comments across the project:
//   B batch, T context, d model width, H heads, hd = d/H head width, F d_ff, V vocab (256).
//
// A Tensor is a cheap handle (a shared_ptr) to a TensorImpl. Copying a Tensor copies the
// handle, not the numbers. Storage is contiguous and row-major and may be shared between
// tensors (a reshape is a new TensorImpl over the same storage); each TensorImpl has its own
// gradient buffer, allocated the first time a gradient flows into it.
//
// Deliberately left out: strides and non-contiguous views, other dtypes, devices.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "glulab/buffer_pool.h"

namespace glulab {

using Shape = std::vector<int>;  // rank 1 to 4, every dimension >= 1

// Elementwise and row loops over more than this many floats are split across the OpenMP threads
// (`#pragma omp parallel for ... if (n > kParallelMinElements)`); below it, starting a team costs
// more than it saves. The tiny preset's (B T, d) = (1024, 48) activations are just above.
constexpr long kParallelMinElements = 16384;

struct Node;  // autograd.h: the record of the op that produced a tensor

// Adds delta to the count of bytes of tensor storage alive (see tensor_bytes() below).
void count_tensor_bytes(long delta);

// std::allocator value-initialises (zeroes) every float of a new vector. Op outputs are
// overwritten in full right away, so that pass over memory is wasted: this allocator
// default-initialises instead, and zeros are asked for explicitly (Tensor::zeros).
// It takes its buffers from the active BufferPool when there is one (buffer_pool.h), and counts
// the bytes it hands out, for tensor_bytes().
template <class T>
struct UninitializedAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = UninitializedAllocator<U>;
    };
    UninitializedAllocator() = default;
    template <class U>
    UninitializedAllocator(const UninitializedAllocator<U>&) {}
    T* allocate(size_t n) {
        count_tensor_bytes(static_cast<long>(n * sizeof(T)));
        return static_cast<T*>(allocate_storage(n * sizeof(T)));
    }
    void deallocate(T* p, size_t n) {
        count_tensor_bytes(-static_cast<long>(n * sizeof(T)));
        free_storage(p, n * sizeof(T));
    }
    template <class U>
    void construct(U* p) { ::new (static_cast<void*>(p)) U; }  // no value: not zeroed
    template <class U, class... Args>
    void construct(U* p, Args&&... args) { ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...); }
};
// A vector whose memory is reused through the active BufferPool and is not zeroed: tensor
// storage, and what ops save for their backward (a row's statistics, the token ids).
template <class T>
using Buffer = std::vector<T, UninitializedAllocator<T>>;
using Storage = Buffer<float>;

struct TensorImpl {
    Shape shape;
    std::shared_ptr<Storage> storage;  // numel floats, shared by reshapes
    Storage grad;                                 // empty until a gradient arrives
    bool requires_grad = false;
    std::shared_ptr<Node> grad_fn;                // null for leaves and in no-grad mode
    std::string name;                             // parameters are named ("blocks.0.attn.q")

    TensorImpl();
    ~TensorImpl();
    TensorImpl(const TensorImpl&) = delete;
    TensorImpl& operator=(const TensorImpl&) = delete;

    size_t numel() const { return storage->size(); }
    float* data() { return storage->data(); }
    const float* data() const { return storage->data(); }
    // The gradient buffer, allocated (zero) on first use: for kernels that add into part of it.
    float* grad_data();
    // The gradient buffer for a kernel that writes every element (autograd.h's add_to_grad):
    // allocated WITHOUT zeroing on first use. `accumulate` is false when this is the first
    // gradient to arrive (then assign it), true when the buffer holds one already (add to it).
    // Assigning instead of adding to zeros saves two passes over memory per tensor.
    struct GradBuffer {
        float* data;
        bool accumulate;
    };
    GradBuffer grad_buffer();
    // Adds the gradient g (numel floats the caller no longer needs) into this one. When there is
    // none yet, g's buffer simply becomes this gradient: no copy (reshape's backward, add's).
    void accumulate_grad(Storage&& g);
};

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // ---- construction ----
    static Tensor zeros(const Shape& shape, bool requires_grad = false);
    // Uninitialised values: for op outputs whose every element the op writes.
    static Tensor empty(const Shape& shape);
    static Tensor from_values(const Shape& shape, std::vector<float> values, bool requires_grad = false);
    // A new tensor over the same storage with another shape of equal numel (no gradient link;
    // use ops.h reshape() inside a graph).
    Tensor share_storage_as(const Shape& shape) const;

    // ---- shape ----
    const Shape& shape() const { return impl_->shape; }
    int rank() const { return static_cast<int>(impl_->shape.size()); }
    int size(int dim) const;  // negative dims count from the end: size(-1) is the last
    size_t numel() const { return impl_->numel(); }
    std::string shape_str() const;

    // ---- data ----
    float* data() { return impl_->data(); }
    const float* data() const { return impl_->data(); }
    float item() const;  // the value of a one-element tensor
    std::vector<float> to_vector() const { return {impl_->storage->begin(), impl_->storage->end()}; }

    // ---- gradients ----
    bool requires_grad() const { return impl_->requires_grad; }
    void set_requires_grad(bool on) { impl_->requires_grad = on; }
    bool has_grad() const { return !impl_->grad.empty(); }
    // A handle's constness does not extend to the gradient it accumulates (as with shared_ptr).
    float* grad() const { return impl_->grad_data(); }  // allocates zeros on first use
    std::vector<float> grad_vector() const { return {impl_->grad.begin(), impl_->grad.end()}; }  // a copy
    void zero_grad();
    // Reverse-mode differentiation from this tensor; see autograd.h.
    void backward();

    // ---- identity ----
    const std::string& name() const { return impl_->name; }
    void set_name(std::string name) { impl_->name = std::move(name); }
    TensorImpl* impl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
    bool defined() const { return impl_ != nullptr; }

private:
    std::shared_ptr<TensorImpl> impl_;
};

size_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);

// Number of TensorImpls alive right now: the test that the graph is freed after backward
// watches this count stay flat over many steps.
long live_tensor_count();

// Bytes of tensor storage (values and gradients) alive now, and the most that were alive at once
// since the last reset_peak_tensor_bytes(): what parameters, their gradients and the activations
// the graph saves for the backward take, without the allocator's and the program's own overhead.
// `glulab bench` sets the peak beside the process's resident memory.
long tensor_bytes();
long peak_tensor_bytes();
void reset_peak_tensor_bytes();

}  // namespace glulab
