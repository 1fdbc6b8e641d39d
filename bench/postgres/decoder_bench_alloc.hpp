#pragma once

#include <atomic>
#include <cstddef>

// Heap allocations made by the process so far (operator new, every form).
std::size_t decoder_bench_allocations() noexcept;
