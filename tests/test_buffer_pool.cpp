// test_buffer_pool.cpp — tensor buffers reused from step to step: the pool hands back exactly
// what it was given, training's steady state takes nothing from the heap, and reuse changes no bit.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstdint>
#include <optional>

#include "glulab/buffer_pool.h"
#include "glulab/data.h"
#include "glulab/model.h"
#include "glulab/optim.h"
#include "glulab/train.h"
#include "thread_count.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("buffer pool: a buffer given back is taken again only for its exact size") {
    BufferPool pool;
    CHECK(pool.take(64) == nullptr);  // nothing held yet
    void* a = allocate_storage(64);
    void* b = allocate_storage(128);
    pool.give(a, 64);
    pool.give(b, 128);
    CHECK(pool.held_bytes() == 192);
    CHECK(pool.take(96) == nullptr);  // no rounding to a bigger buffer
    CHECK(pool.take(64) == a);
    CHECK(pool.take(64) == nullptr);  // given once, taken once
    CHECK(pool.held_bytes() == 128);
    CHECK(pool.reused() == 1);
    free_storage(a, 64);  // no scope open: back to the heap. b stays held: the pool's destructor frees it
}

namespace {
bool on_huge_page_boundary(const float* p) { return reinterpret_cast<std::uintptr_t>(p) % kHugePage == 0; }
}  // namespace

TEST_CASE("buffer pool: buffers of kHugePageFrom bytes or more start on a 2 MiB boundary, pooled or not") {
    const int floats = static_cast<int>(kHugePageFrom / sizeof(float));  // exactly the threshold
    {
        Tensor big = Tensor::empty({floats});
        CHECK(on_huge_page_boundary(big.data()));
    }
    BufferPool pool;
    {
        BufferPoolScope reuse(pool);
        { Tensor big = Tensor::empty({3, floats}); }  // from the heap, held by the pool
        Tensor again = Tensor::empty({3, floats});      // the held one
        CHECK(pool.reused() == 1);
        CHECK(on_huge_page_boundary(again.data()));
        Tensor bigger = Tensor::empty({floats + 1});  // not a multiple of the page
        CHECK(on_huge_page_boundary(bigger.data()));
    }
    // The buffers went back to `pool`, whose destructor frees them as they were allocated (aligned);
    // AddressSanitizer (make sanitize) checks that every new meets its own kind of delete.
    CHECK(pool.held_bytes() == 3 * kHugePageFrom + kHugePageFrom + sizeof(float));
}

TEST_CASE("buffer pool: a scope routes this thread's tensor storage through the pool, then restores") {
    BufferPool outer, inner;
    {
        BufferPoolScope use_outer(outer);
        { Tensor t = Tensor::empty({1000}); }  // freed into `outer`
        CHECK(outer.held_bytes() == 4000);
        {
            BufferPoolScope use_inner(inner);
            { Tensor t = Tensor::empty({1000}); }  // nothing in `inner` yet: from the heap, back to `inner`
            CHECK(inner.held_bytes() == 4000);
            CHECK(outer.held_bytes() == 4000);
        }
        const long heap_before = heap_storage_allocations();
        Tensor t = Tensor::empty({1000});  // `outer` again: its held buffer
        CHECK(heap_storage_allocations() == heap_before);
        CHECK(outer.reused() == 1);
        CHECK(outer.held_bytes() == 0);
    }
    const long heap_before = heap_storage_allocations();
    { Tensor t = Tensor::empty({1000}); }  // no scope: the heap
    CHECK(heap_storage_allocations() == heap_before + 1);
    CHECK(outer.held_bytes() == 4000);  // the second t went back before its scope closed; this one did not
}

namespace {
struct Run {
    std::vector<double> losses, grad_norms;
    std::vector<std::vector<float>> parameters;
    long heap_after_warmup = 0, heap_at_end = 0;
};

// `steps` steps of the recipe on tiny (batch 16: the ops' parallel paths run) with or without a
// pool, on 2 threads.
Run train_tiny(long steps, bool pooled) {
    ThreadCountGuard guard;
    omp_set_num_threads(2);
    Model model(preset_config("tiny", FfnKind::SwiGLU));
    model.init(5);
    AdamW optimizer(model.parameters());
    BufferPool pool;
    std::optional<BufferPoolScope> scope;
    if (pooled) scope.emplace(pool);
    Rng rng(6);
    Batch batch;
    Run run;
    for (long s = 0; s < steps; ++s) {
        random_batch(rng, 16, model.config().ctx, batch);
        const StepResult r = train_step(model, optimizer, batch, 1e-3f, 1.0);
        run.losses.push_back(r.loss);
        run.grad_norms.push_back(r.grad_norm);
        if (s == 1) run.heap_after_warmup = heap_storage_allocations();
    }
    run.heap_at_end = heap_storage_allocations();
    for (const Parameter& p : model.parameters()) run.parameters.push_back(p.value.to_vector());
    return run;
}
}  // namespace

TEST_CASE("buffer pool: after two steps, training takes no tensor buffer from the heap, on any thread") {
    const Run run = train_tiny(5, true);
    CHECK(run.heap_at_end == run.heap_after_warmup);
}

TEST_CASE("buffer pool: reused (unzeroed, stale) buffers give the same bits as fresh ones") {
    // An op that read an element before writing it would see last step's values here.
    const Run pooled = train_tiny(4, true), fresh = train_tiny(4, false);
    CHECK(pooled.losses == fresh.losses);
    CHECK(pooled.grad_norms == fresh.grad_norms);
    CHECK(pooled.parameters == fresh.parameters);
    CHECK(fresh.heap_at_end > fresh.heap_after_warmup);  // without the pool, every step allocates
}
