// tensor.cpp — construction, shape helpers and gradient buffers of Tensor.
#include "glulab/tensor.h"

#include <atomic>
#include <stdexcept>

#include "glulab/autograd.h"

namespace glulab {

namespace {
std::atomic<long> g_live_tensors{0};  // instrumentation only; see live_tensor_count()
}

TensorImpl::TensorImpl() { ++g_live_tensors; }
TensorImpl::~TensorImpl() { --g_live_tensors; }
long live_tensor_count() { return g_live_tensors.load(); }

namespace {
std::atomic<long> g_tensor_bytes{0};       // instrumentation only; see tensor_bytes()
std::atomic<long> g_peak_tensor_bytes{0};
}  // namespace

void count_tensor_bytes(long delta) {
    const long now = g_tensor_bytes.fetch_add(delta, std::memory_order_relaxed) + delta;
    long peak = g_peak_tensor_bytes.load(std::memory_order_relaxed);
    while (now > peak && !g_peak_tensor_bytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
}
long tensor_bytes() { return g_tensor_bytes.load(); }
long peak_tensor_bytes() { return g_peak_tensor_bytes.load(); }
void reset_peak_tensor_bytes() { g_peak_tensor_bytes.store(g_tensor_bytes.load()); }

float* TensorImpl::grad_data() {
    if (grad.empty()) grad.assign(numel(), 0.0f);
    return grad.data();
}

TensorImpl::GradBuffer TensorImpl::grad_buffer() {
    const bool accumulate = !grad.empty();
    if (!accumulate) grad.resize(numel());  // UninitializedAllocator: not zeroed
    return {grad.data(), accumulate};
}

void TensorImpl::accumulate_grad(Storage&& g) {
    if (grad.empty()) {
        grad = std::move(g);
        return;
    }
    const long n = static_cast<long>(grad.size());
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
    for (long i = 0; i < n; ++i) grad[i] += g[i];
}

size_t shape_numel(const Shape& shape) {
    size_t n = 1;
    for (int dim : shape) n *= static_cast<size_t>(dim);
    return n;
}

std::string shape_to_string(const Shape& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + ")";
}

static void check_shape(const Shape& shape) {
    if (shape.empty() || shape.size() > 4)
        throw std::invalid_argument("tensor rank must be 1 to 4, got shape " + shape_to_string(shape));
    for (int dim : shape)
        if (dim < 1) throw std::invalid_argument("tensor dimensions must be >= 1, got shape " + shape_to_string(shape));
}

Tensor Tensor::zeros(const Shape& shape, bool requires_grad) {
    check_shape(shape);
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = shape;
    impl->storage = std::make_shared<Storage>(shape_numel(shape), 0.0f);
    impl->requires_grad = requires_grad;
    return Tensor(std::move(impl));
}

Tensor Tensor::empty(const Shape& shape) {
    check_shape(shape);
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = shape;
    impl->storage = std::make_shared<Storage>(shape_numel(shape));  // not zeroed
    return Tensor(std::move(impl));
}

Tensor Tensor::from_values(const Shape& shape, std::vector<float> values, bool requires_grad) {
    check_shape(shape);
    if (values.size() != shape_numel(shape))
        throw std::invalid_argument("from_values: " + std::to_string(values.size()) + " values do not fill shape " +
                                    shape_to_string(shape));
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = shape;
    impl->storage = std::make_shared<Storage>(values.begin(), values.end());
    impl->requires_grad = requires_grad;
    return Tensor(std::move(impl));
}

Tensor Tensor::share_storage_as(const Shape& shape) const {
    check_shape(shape);
    if (shape_numel(shape) != numel())
        throw std::invalid_argument("cannot view " + shape_str() + " as " + shape_to_string(shape));
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = shape;
    impl->storage = impl_->storage;
    return Tensor(std::move(impl));
}

int Tensor::size(int dim) const {
    const int r = rank();
    const int d = dim < 0 ? dim + r : dim;
    if (d < 0 || d >= r)
        throw std::out_of_range("dimension " + std::to_string(dim) + " out of range for shape " + shape_str());
    return impl_->shape[d];
}

std::string Tensor::shape_str() const { return shape_to_string(impl_->shape); }

float Tensor::item() const {
    if (numel() != 1) throw std::invalid_argument("item() needs a one-element tensor, got " + shape_str());
    return (*impl_->storage)[0];
}

void Tensor::zero_grad() {
    if (!impl_->grad.empty()) std::fill(impl_->grad.begin(), impl_->grad.end(), 0.0f);
}

void Tensor::backward() { glulab::backward(*this); }

}  // namespace glulab
