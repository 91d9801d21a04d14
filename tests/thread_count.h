// thread_count.h — for the tests that compare 1 and 2 OpenMP threads.
#pragma once
#include <omp.h>

namespace glulab::testing {

// Restores the OpenMP thread count when the scope that changes it ends (even by an exception),
// so that the tests after it run with the count they were started with.
struct ThreadCountGuard {
    int saved = omp_get_max_threads();
    ~ThreadCountGuard() { omp_set_num_threads(saved); }
};

}  // namespace glulab::testing
