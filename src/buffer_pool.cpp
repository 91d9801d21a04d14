// buffer_pool.cpp — the pool of tensor buffers and the per-thread scope that activates it.
#include "glulab/buffer_pool.h"

#include <atomic>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace glulab {

namespace {
thread_local BufferPool* t_active_pool = nullptr;  // set only by a BufferPoolScope
std::atomic<long> g_heap_allocations{0};            // instrumentation only

// A buffer from the heap; big ones on huge pages (see kHugePageFrom in buffer_pool.h).
void* heap_allocate(size_t bytes) {
    if (bytes < kHugePageFrom) return ::operator new(bytes);
    void* p = ::operator new(bytes, std::align_val_t{kHugePage});
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, (bytes + kHugePage - 1) / kHugePage * kHugePage, MADV_HUGEPAGE);  // a hint: may be refused
#endif
    return p;
}

void heap_free(void* p, size_t bytes) {
    if (bytes < kHugePageFrom)
        ::operator delete(p);
    else
        ::operator delete(p, std::align_val_t{kHugePage});
}
}  // namespace

BufferPool::~BufferPool() {
    for (auto& [bytes, buffers] : held_)
        for (void* p : buffers) heap_free(p, bytes);
}

void* BufferPool::take(size_t bytes) {
    auto it = held_.find(bytes);
    if (it == held_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    held_bytes_ -= bytes;
    ++reused_;
    return p;
}

void BufferPool::give(void* p, size_t bytes) {
    held_[bytes].push_back(p);
    held_bytes_ += bytes;
}

BufferPoolScope::BufferPoolScope(BufferPool& pool) : previous_(t_active_pool) { t_active_pool = &pool; }
BufferPoolScope::~BufferPoolScope() { t_active_pool = previous_; }

void* allocate_storage(size_t bytes) {
    if (t_active_pool)
        if (void* p = t_active_pool->take(bytes)) return p;
    g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
    return heap_allocate(bytes);
}

void free_storage(void* p, size_t bytes) {
    if (t_active_pool)
        t_active_pool->give(p, bytes);
    else
        heap_free(p, bytes);
}

long heap_storage_allocations() { return g_heap_allocations.load(); }

}  // namespace glulab
