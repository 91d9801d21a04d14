// autograd.cpp — recording ops, the reverse topological walk, and freeing the graph.
// Two hooks report to the op profiler when one is active (profile.h); otherwise they cost a
// thread-local load and a branch per op.
#include "glulab/autograd.h"

#include <stdexcept>
#include <unordered_set>

#include "glulab/profile.h"

namespace glulab {

namespace {
thread_local bool t_grad_enabled = true;

// Post-order DFS from root over producer Nodes: every tensor comes after all the tensors
// it was computed from. Iterative, so deep graphs cannot overflow the stack. The list holds a
// reference to each tensor, so that backward() can free the graph as it goes (see there).
std::vector<std::shared_ptr<TensorImpl>> topological_order(const std::shared_ptr<TensorImpl>& root) {
    std::vector<std::shared_ptr<TensorImpl>> order;
    std::unordered_set<TensorImpl*> visited;
    std::vector<std::pair<std::shared_ptr<TensorImpl>, size_t>> stack{{root, 0}};
    visited.insert(root.get());
    while (!stack.empty()) {
        auto& [t, next_input] = stack.back();
        const Node* node = t->grad_fn.get();
        if (node && next_input < node->inputs.size()) {
            const std::shared_ptr<TensorImpl>& in = node->inputs[next_input++];
            if (in->grad_fn && visited.insert(in.get()).second) stack.push_back({in, 0});
        } else {
            order.push_back(std::move(t));
            stack.pop_back();
        }
    }
    return order;
}
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

Tensor record(Tensor out, const char* op, std::initializer_list<Tensor> inputs, BackwardFn backward) {
    // Profiler hook: every op calls record() right after its forward kernel, so the profiler
    // charges the time since the previous op to this one. It comes before the early returns
    // below, so ops are seen in no-grad mode and on inputs that need no gradient too.
    if (Profiler* profiler = active_profiler()) profiler->op_forward(op, *out.impl(), inputs);
    if (!t_grad_enabled) return out;
    bool any = false;
    for (const Tensor& in : inputs) any = any || in.requires_grad();
    if (!any) return out;
    auto node = std::make_shared<Node>();
    node->op = op;
    for (const Tensor& in : inputs) node->inputs.push_back(in.impl_ptr());
    node->backward = std::move(backward);
    out.impl()->grad_fn = std::move(node);
    out.set_requires_grad(true);
    return out;
}

void backward(const Tensor& root, const float* seed) {
    TensorImpl* r = root.impl();
    if (!r->requires_grad) throw std::logic_error("backward: the tensor does not require a gradient");
    if (!seed && r->numel() != 1)
        throw std::logic_error("backward: a seed gradient is needed for a non-scalar tensor " + root.shape_str());
    float* g = r->grad_data();
    for (size_t i = 0; i < r->numel(); ++i) g[i] += seed ? seed[i] : 1.0f;

    std::vector<std::shared_ptr<TensorImpl>> order = topological_order(root.impl_ptr());
    Profiler* profiler = active_profiler();  // null unless a ProfileScope is open (profile.h)
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        TensorImpl* t = it->get();
        if (t->grad_fn && !t->grad.empty()) {
            const auto start = Profiler::Clock::now();
            t->grad_fn->backward(*t);
            if (profiler) profiler->op_backward(*t->grad_fn, *t, start);  // times each closure
        }
        // Free the graph as we go: every consumer of t has run, so t's gradient is complete and,
        // now that t's own backward has used it, needed no more (the root's is kept). Dropping
        // the Node releases what it saved for the backward. So the activations and the
        // intermediate gradients of the last layers are freed while the first ones are still
        // being differentiated, and the peak memory is about the forward pass's alone.
        t->grad_fn.reset();
        if (t != r) Storage().swap(t->grad);
        it->reset();  // the last reference, unless the caller holds one
    }
}

}  // namespace glulab
