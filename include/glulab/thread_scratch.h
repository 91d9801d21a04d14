// thread_scratch.h — scratch space for each thread of an OpenMP region, in one reused buffer.
//
// Attention and the loss need a few KB of scratch per thread. Allocated inside the parallel
// region, each worker's would be a fresh malloc every call. Instead the calling thread takes one
// buffer for the whole team before the region, which comes from its BufferPool when one is
// active (buffer_pool.h), and each thread works in its own block of it:
//
//     ThreadScratch scratch(parallel, floats_per_thread);
//     #pragma omp parallel if (parallel)
//     {
//         float* mine = scratch.mine();
//         ...
//     }
#pragma once
#include <omp.h>

#include <cstddef>
#include <stdexcept>
#include <string>

#include "glulab/tensor.h"

namespace glulab {

class ThreadScratch {
public:
    // Room for the team of a region opened with `#pragma omp parallel if (parallel)`: as many
    // threads as OpenMP would start, or one.
    ThreadScratch(bool parallel, size_t floats_per_thread)
        : per_thread_(floats_per_thread),
          threads_(parallel ? omp_get_max_threads() : 1),
          storage_(per_thread_ * static_cast<size_t>(threads_)) {}

    // The calling thread's block of floats_per_thread floats (inside the region). A thread with
    // no block (a region with more threads than OpenMP said it would start) is a bug here; the
    // exception, thrown inside the region, ends the program with its message.
    float* mine() {
        const int t = omp_get_thread_num();
        if (t >= threads_) throw std::logic_error("ThreadScratch: thread " + std::to_string(t) + " has no block");
        return storage_.data() + per_thread_ * static_cast<size_t>(t);
    }

private:
    size_t per_thread_;
    int threads_;
    Storage storage_;  // threads_ blocks of per_thread_ floats, unzeroed
};

}  // namespace glulab
