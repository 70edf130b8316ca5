// Shared by the CUDA sources of libvdepcuda.so: JNI naming, error reporting to Java, launch
// geometry and the block reductions. Every kernel is FP32 (device tensors are float32);
// row statistics and parameter-gradient sums are accumulated in double, as the CPU kernels do.
//
// Conventions (llm.c style): one kernel per direction, the simplest correct indexing, all
// work on the legacy default stream (so host<->device copies order themselves after kernels),
// and pointers passed from Java as jlong device addresses. Layouts are row-major, contiguous.
#pragma once

#include <jni.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>

// JNI entry points of io.github.vdep.core.cuda.CudaKernels (kernels) and CudaRuntime (runtime).
#define KERNEL_FN(ret, name) extern "C" JNIEXPORT ret JNICALL Java_io_github_vdep_core_cuda_CudaKernels_##name
#define RUNTIME_FN(ret, name) extern "C" JNIEXPORT ret JNICALL Java_io_github_vdep_core_cuda_CudaRuntime_##name

namespace vdep {

// Throws io.github.vdep.core.cuda.CudaException(message) in the calling Java thread (or a
// RuntimeException if that class cannot be found). The JNI function must return right after.
void throw_java(JNIEnv* env, const char* message);

// If err is not cudaSuccess: throws "<what>: <CUDA error string>" and returns true.
bool failed(JNIEnv* env, cudaError_t err, const char* what);

// After a kernel launch: reports a bad launch (or an earlier asynchronous error) as above.
inline bool launch_failed(JNIEnv* env, const char* what) { return failed(env, cudaGetLastError(), what); }

template <typename T>
inline T* dptr(jlong address) { return reinterpret_cast<T*>(static_cast<intptr_t>(address)); }

// Blocks of 256 threads covering n elements (grid-stride loops cover the rest).
constexpr int BLOCK = 256;
inline unsigned int blocks_for(long n) {
    long b = (n + BLOCK - 1) / BLOCK;
    if (b < 1) b = 1;
    return static_cast<unsigned int>(b > 65535L * 16 ? 65535L * 16 : b);
}

// A fixed-size scratch area on the current device for the two-stage reductions (per-block
// partial sums): allocated once per device, never per operation.
constexpr int REDUCE_BLOCKS = 512;
double* reduce_scratch(JNIEnv* env);

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
// Fixed order, so the result does not depend on timing.
template <typename T>
__device__ inline T block_sum(T v) {
    __shared__ T warp_sums[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    __syncthreads();  // warp_sums may still be read by a previous call
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    const int warps = (blockDim.x + 31) >> 5;
    T total = 0;
    for (int w = 0; w < warps; w++) total += warp_sums[w];
    return total;
}

__device__ inline float block_max(float v) {
    __shared__ float warp_max[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
    __syncthreads();
    if (lane == 0) warp_max[warp] = v;
    __syncthreads();
    const int warps = (blockDim.x + 31) >> 5;
    float m = -INFINITY;
    for (int w = 0; w < warps; w++) m = fmaxf(m, warp_max[w]);
    return m;
}

// Row-major C[M x N] = alpha op(A) op(B) + beta C through cuBLAS, for `batch` products whose
// operands are strideA/B/C elements apart; lda/ldb/ldc are row strides. Returns false after
// throwing (cuBLAS missing, or an error). Defined in runtime.cu.
bool gemm_batched(JNIEnv* env, bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                  long long strideA, const float* B, int ldb, long long strideB, float beta, float* C, int ldc,
                  long long strideC, int batch, const char* what);

#define GRID_STRIDE(i, n) for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < (n); \
                               i += static_cast<long>(gridDim.x) * blockDim.x)

// Two-stage sum of term(i) over i in [0, n), in double, in a fixed order: per-block partials,
// then one thread adds them up. The result r = offset + scale * sum goes to outF[0] (as float)
// and/or outD[0] (added to it when accumulate). Deterministic for a given n.
template <typename Term>
__global__ void partial_sums_kernel(Term term, long n, double* partials) {
    double s = 0;
    GRID_STRIDE(i, n) s += static_cast<double>(term(i));
    s = block_sum(s);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

// (static: every source file has its own copy, so no relocatable device code is needed)
static __global__ void finish_sum_kernel(const double* partials, int blocks, double scale, double offset, float* outF,
                                         double* outD, bool accumulate) {
    if (threadIdx.x != 0 || blockIdx.x != 0) return;
    double s = 0;
    for (int b = 0; b < blocks; b++) s += partials[b];
    const double r = offset + scale * s;
    if (outF != nullptr) outF[0] = static_cast<float>(r);
    if (outD != nullptr) outD[0] = accumulate ? outD[0] + r : r;
}

template <typename Term>
bool reduce_sum(JNIEnv* env, Term term, long n, double scale, double offset, float* outF, double* outD, bool accumulate,
                const char* what) {
    double* partials = reduce_scratch(env);
    if (partials == nullptr) return false;
    unsigned int blocks = blocks_for(n);
    if (blocks > REDUCE_BLOCKS) blocks = REDUCE_BLOCKS;
    partial_sums_kernel<<<blocks, BLOCK>>>(term, n, partials);
    if (launch_failed(env, what)) return false;
    finish_sum_kernel<<<1, 1>>>(partials, static_cast<int>(blocks), scale, offset, outF, outD, accumulate);
    return !launch_failed(env, what);
}

}  // namespace vdep
