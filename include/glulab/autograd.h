// autograd.h — define-by-run reverse-mode automatic differentiation.
//
// How it works (the whole engine is autograd.cpp, about 80 lines):
//  1. Every op computes its output at once (forward) and, when grad mode is on and some input
//     requires a gradient, attaches a Node to the output: the op's name, its inputs, and a
//     closure that knows how to turn the output's gradient into the inputs' gradients.
//  2. backward(loss) sorts the Nodes reachable from `loss` in reverse topological order, seeds
//     dL/dloss = 1, and calls each closure once, after every consumer of its output has added
//     its share. Closures ACCUMULATE (+=) into input gradients, so a tensor used twice gets
//     the sum of both contributions (add_to_grad below assigns the first one, as a shortcut).
//  3. The graph is freed during that walk: once a tensor's closure has run, its Node (with the
//     activations it saved) and its gradient are dropped, unless it is the root. So memory does
//     not grow from step to step, and the backward pass needs little beyond the forward's.
//     Gradients are kept for leaves (parameters, inputs) only, as in PyTorch.
// While a ProfileScope is open (profile.h), record() and the backward walk also report each op's
// forward and backward time to the profiler.
//
// A closure never holds its own output (that would be a shared_ptr cycle and a leak): the
// output is passed to it as an argument instead.
#pragma once
#include <functional>
#include <initializer_list>
#include <vector>

#include "glulab/tensor.h"

namespace glulab {

// Reads out.grad and adds into the gradients of the op's inputs.
using BackwardFn = std::function<void(TensorImpl& out)>;

struct Node {
    const char* op;                                   // e.g. "matmul", for graphs and profiles
    std::vector<std::shared_ptr<TensorImpl>> inputs;  // the edges of the graph
    BackwardFn backward;
};

// Records `op` as the producer of `out` when it is needed: grad mode on and at least one
// input requiring a gradient. Returns `out` (now requiring a gradient if recorded).
Tensor record(Tensor out, const char* op, std::initializer_list<Tensor> inputs, BackwardFn backward);

// Back-propagates from `root`, seeding its gradient with `seed` (numel values), or with 1 when
// `seed` is null (root must then have one element). Frees the graph on the way (see 3. above).
void backward(const Tensor& root, const float* seed = nullptr);

// ---- writing gradients, for backward kernels ----
// The first gradient to reach a tensor is assigned into an unzeroed buffer, the later ones are
// added (TensorImpl::grad_buffer): the same sums as adding everything to zeros, one pass less.

// dst[i] = value(i), or dst[i] += value(i) when `accumulate`, for i in [0, n): one row's worth.
template <class Value>
void store_grad(float* dst, long n, bool accumulate, Value value) {
    if (accumulate)
        for (long i = 0; i < n; ++i) dst[i] += value(i);
    else
        for (long i = 0; i < n; ++i) dst[i] = value(i);
}

// dL/dx_i += value(i) for every element i of x, split across threads for big tensors (each
// element is written by one thread, so the bits do not depend on the thread count).
template <class Value>
void add_to_grad(const Tensor& x, Value value) {
    const TensorImpl::GradBuffer g = x.impl()->grad_buffer();
    const long n = static_cast<long>(x.numel());
    if (g.accumulate) {
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
        for (long i = 0; i < n; ++i) g.data[i] += value(i);
    } else {
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
        for (long i = 0; i < n; ++i) g.data[i] = value(i);
    }
}

// Whether ops record the graph right now (per thread; on by default).
bool grad_enabled();

// Turns graph recording off for its lifetime: for evaluation and sampling.
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

}  // namespace glulab
