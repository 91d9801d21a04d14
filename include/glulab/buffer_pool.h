// buffer_pool.h — reusing tensor buffers from one training step to the next.
//
// A training step asks for the same buffers in the same order every time: activations in the
// forward, gradients in the backward, all given back when the graph is freed. Without a pool
// each is a malloc and a free (about 85 of them, 19 MB, per step of `tiny`). With one, a buffer
// given back waits, filed under its size, for the next request of exactly that size; from the
// second step on, the requests find their buffers and the heap is not asked again.
//
//     BufferPool buffers;
//     BufferPoolScope reuse(buffers);  // tensor storage on this thread now goes through `buffers`
//
// Only the thread that opened the scope uses the pool (as with ProfileScope, profile.h), so the
// pool needs no lock; OpenMP workers, and every thread when no scope is open, go to the heap.
// Every buffer comes from the heap the same way, pooled or not (by its size: see kHugePageFrom),
// so a buffer may be given back with or without a scope open, whichever thread took it.
//
// Exact sizes, no rounding: the steps repeat exactly, so rounding would only cost memory. The
// price is that a size asked for once (the last, shorter validation batch) stays held until the
// pool is destroyed; the pool frees all it holds then.
//
// Big buffers (kHugePageFrom bytes or more: every activation of the small preset) start on a
// 2 MiB boundary and ask Linux for transparent huge pages (madvise; a hint, which the system may
// refuse). A huge page takes one TLB entry where 4 KiB pages take 512, and gemm and attention
// read their operands by rows far apart. Whole small-preset training steps ran 1.048 (2 threads)
// and 1.052 (1 thread) times as fast (make step-ab REV=7661800), and resident memory went from
// 1.11 to 1.24 times what training needs (a buffer takes whole pages). The bits are the same
// (experiments/results/speed/huge-pages-7661800.md).
#pragma once
#include <cstddef>
#include <unordered_map>
#include <vector>

namespace glulab {

constexpr size_t kHugePage = size_t{2} << 20;      // x86-64's large page, 2 MiB
// Buffers this big or bigger are put on huge pages: a buffer takes whole pages, so this bounds
// the memory added to a third of the buffer (1.5 MiB is the small preset's (B T, d) activation;
// the tiny preset's biggest buffers, 1 MiB, would take twice their size and stay on 4 KiB pages).
constexpr size_t kHugePageFrom = size_t{3} << 19;

class BufferPool {
public:
    BufferPool() = default;
    ~BufferPool();
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    // A held buffer of exactly `bytes`, now the caller's; nullptr if none is held.
    void* take(size_t bytes);
    // Holds `p` (from allocate_storage(bytes)) for a later take(bytes).
    void give(void* p, size_t bytes);

    size_t held_bytes() const { return held_bytes_; }  // given and not taken again
    long reused() const { return reused_; }            // takes that found a buffer

private:
    std::unordered_map<size_t, std::vector<void*>> held_;  // by size in bytes
    size_t held_bytes_ = 0;
    long reused_ = 0;
};

// Makes `pool` the one tensor storage on this thread goes through, until the scope closes; then
// the previous one (or none) again.
class BufferPoolScope {
public:
    explicit BufferPoolScope(BufferPool& pool);
    ~BufferPoolScope();
    BufferPoolScope(const BufferPoolScope&) = delete;
    BufferPoolScope& operator=(const BufferPoolScope&) = delete;

private:
    BufferPool* previous_;
};

// Tensor storage (tensor.h's allocator) comes from and goes back to here: the active pool if this
// thread has one, else the heap.
void* allocate_storage(size_t bytes);
void free_storage(void* p, size_t bytes);

// How many tensor buffers have come from the heap, on any thread, with or without a pool:
// the test that training's steady state allocates none watches this count stay flat.
long heap_storage_allocations();

}  // namespace glulab
