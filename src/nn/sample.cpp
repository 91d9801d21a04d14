// sample.cpp — autoregressive generation with temperature and top-k.
// Each new byte re-runs the model over the last ctx bytes (no key/value cache: simple, and
// fast enough for the small presets).
#include "glulab/sample.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "glulab/autograd.h"
#include "glulab/rng.h"

namespace glulab {

namespace {
// Picks a byte from the last position's logits (256 values).
int pick(const float* logits, const SampleOptions& o, Rng& rng) {
    std::vector<int> order(kVocab);
    std::iota(order.begin(), order.end(), 0);
    // Most likely first; ties broken by byte value so the choice is deterministic.
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
    if (o.temperature <= 0.0f) return order[0];
    const int k = o.top_k > 0 ? std::min(o.top_k, kVocab) : kVocab;
    std::vector<double> p(k);
    for (int i = 0; i < k; ++i) p[i] = std::exp((logits[order[i]] - logits[order[0]]) / o.temperature);
    const double total = std::accumulate(p.begin(), p.end(), 0.0);
    double u = static_cast<double>(rng.uniform()) * total;
    for (int i = 0; i < k; ++i) {
        u -= p[i];
        if (u < 0.0) return order[i];
    }
    return order[k - 1];
}
}  // namespace

std::string generate(const Model& model, const std::string& prompt, const SampleOptions& o) {
    NoGradGuard no_grad;
    Rng rng(o.seed);
    std::vector<int> context;
    for (unsigned char c : prompt.empty() ? std::string("\n") : prompt) context.push_back(c);
    const int ctx = model.config().ctx;
    std::string out;
    for (int i = 0; i < o.tokens; ++i) {
        const int T = std::min<int>(ctx, static_cast<int>(context.size()));
        const std::vector<int> window(context.end() - T, context.end());
        Tensor logits = model.logits(window, 1, T);  // (1, T, 256)
        const int next = pick(logits.data() + static_cast<size_t>(T - 1) * kVocab, o, rng);
        context.push_back(next);
        out.push_back(static_cast<char>(next));
    }
    return out;
}

}  // namespace glulab
