// storage_floats.h — floats allocated as training's tensors are, for the measuring programs
// (gemm_ab.cpp, bandwidth.cpp): buffer_pool.h's tensor storage, on 2 MiB huge pages when big. On
// 4 KiB pages attention's heads, rows 768 bytes apart, ran at about half the speed, TLB-bound.
#pragma once
#include <cstddef>

#include "glulab/buffer_pool.h"

// `count` floats set to `value`, written by the OpenMP threads in static shares: a program whose
// threads then stream over the same shares reads pages its own thread touched first (on its
// memory node, where there are several).
class StorageFloats {
public:
    StorageFloats(size_t count, float value)
        : bytes_(count * sizeof(float)), data_(static_cast<float*>(glulab::allocate_storage(bytes_))) {
        const long n = static_cast<long>(count);
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; ++i) data_[i] = value;
    }
    ~StorageFloats() { glulab::free_storage(data_, bytes_); }
    StorageFloats(const StorageFloats&) = delete;
    StorageFloats& operator=(const StorageFloats&) = delete;
    float* data() const { return data_; }

private:
    size_t bytes_;
    float* data_;
};
