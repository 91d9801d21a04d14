// buffer_pool.cpp — the pool of tensor buffers and the per-thread scope that activates it.
#include "glulab/buffer_pool.h"

#include <atomic>
#include <new>

namespace glulab {

namespace {
thread_local BufferPool* t_active_pool = nullptr;  // set only by a BufferPoolScope
std::atomic<long> g_heap_allocations{0};            // instrumentation only
}  // namespace

BufferPool::~BufferPool() {
    for (auto& [bytes, buffers] : held_)
        for (void* p : buffers) ::operator delete(p);
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
    return ::operator new(bytes);
}

void free_storage(void* p, size_t bytes) {
    if (t_active_pool)
        t_active_pool->give(p, bytes);
    else
        ::operator delete(p);
}

long heap_storage_allocations() { return g_heap_allocations.load(); }

}  // namespace glulab
