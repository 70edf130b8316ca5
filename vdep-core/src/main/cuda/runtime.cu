// The runtime side of libvdepcuda.so: errors to Java, device queries, memory and copies, the
// reduction scratch area, and cuBLAS, which is loaded at run time with dlopen (so building needs
// only nvcc and the CUDA runtime). The few cuBLAS functions and enums used are declared here.
#include "vdep_cuda.cuh"

#include <dlfcn.h>

#include <cstring>
#include <mutex>
#include <string>

namespace vdep {

void throw_java(JNIEnv* env, const char* message) {
    if (env->ExceptionCheck()) return;  // the first error stands
    jclass cls = env->FindClass("io/github/vdep/core/cuda/CudaException");
    if (cls == nullptr) {
        env->ExceptionClear();
        cls = env->FindClass("java/lang/RuntimeException");
    }
    env->ThrowNew(cls, message);
}

bool failed(JNIEnv* env, cudaError_t err, const char* what) {
    if (err == cudaSuccess) return false;
    std::string msg = std::string(what) + ": " + cudaGetErrorString(err);
    throw_java(env, msg.c_str());
    return true;
}

namespace {
constexpr int MAX_DEVICES = 64;
double* g_scratch[MAX_DEVICES] = {};
std::mutex g_scratch_lock;
}  // namespace

double* reduce_scratch(JNIEnv* env) {
    int dev = 0;
    if (failed(env, cudaGetDevice(&dev), "cudaGetDevice")) return nullptr;
    if (dev < 0 || dev >= MAX_DEVICES) {
        throw_java(env, "reduce_scratch: device index out of range");
        return nullptr;
    }
    std::lock_guard<std::mutex> guard(g_scratch_lock);
    if (g_scratch[dev] == nullptr) {
        void* p = nullptr;
        if (failed(env, cudaMalloc(&p, sizeof(double) * REDUCE_BLOCKS), "cudaMalloc(reduction scratch)")) return nullptr;
        g_scratch[dev] = static_cast<double*>(p);
    }
    return g_scratch[dev];
}

// ---------------------------------------------------------------- cuBLAS (loaded at run time)

namespace {
// From cublas_api.h (stable since CUDA 11).
typedef void* cublasHandle_t;
typedef int cublasStatus_t;  // CUBLAS_STATUS_SUCCESS = 0
constexpr int CUBLAS_OP_N = 0;
constexpr int CUBLAS_OP_T = 1;
constexpr int CUBLAS_DEFAULT_MATH = 0;
constexpr int CUBLAS_TF32_TENSOR_OP_MATH = 3;

typedef cublasStatus_t (*create_fn)(cublasHandle_t*);
typedef cublasStatus_t (*set_math_fn)(cublasHandle_t, int);
typedef cublasStatus_t (*set_stream_fn)(cublasHandle_t, cudaStream_t);
typedef cublasStatus_t (*sgemm_fn)(cublasHandle_t, int, int, int, int, int, const float*, const float*, int, const float*, int,
                                   const float*, float*, int);
typedef cublasStatus_t (*sgemm_batched_fn)(cublasHandle_t, int, int, int, int, int, const float*, const float*, int, long long,
                                           const float*, int, long long, const float*, float*, int, long long, int);
typedef const char* (*status_string_fn)(cublasStatus_t);

struct Cublas {
    bool tried = false;
    std::string error;  // why it is unavailable; empty when loaded
    void* lib = nullptr;
    create_fn create = nullptr;
    set_math_fn set_math = nullptr;
    set_stream_fn set_stream = nullptr;
    sgemm_fn sgemm = nullptr;
    sgemm_batched_fn sgemm_batched = nullptr;
    status_string_fn status_string = nullptr;  // optional (cuBLAS >= 11.4)
    cublasHandle_t handles[MAX_DEVICES] = {};
    bool tf32 = false;
};
Cublas g_cublas;
std::mutex g_cublas_lock;

// Tries libcublas.so.<runtime major> first, then the other majors, then the unversioned name;
// each through the dynamic loader's search path and then $CUDA_HOME/lib64 and /usr/local/cuda/lib64.
void load_cublas_locked() {
    if (g_cublas.tried) return;
    g_cublas.tried = true;
    int rt = 0;
    cudaRuntimeGetVersion(&rt);
    const int major = rt / 1000;
    std::string names[] = {"libcublas.so." + std::to_string(major), "libcublas.so.13", "libcublas.so.12", "libcublas.so.11",
                           "libcublas.so"};
    std::string dirs[] = {"", "", "/usr/local/cuda/lib64/"};
    const char* home = getenv("CUDA_HOME");
    if (home != nullptr && home[0] != '\0') dirs[1] = std::string(home) + "/lib64/";
    std::string first_error;
    for (const std::string& dir : dirs) {
        if (&dir == &dirs[1] && dir.empty()) continue;
        for (const std::string& name : names) {
            void* h = dlopen((dir + name).c_str(), RTLD_NOW | RTLD_LOCAL);
            if (h != nullptr) {
                g_cublas.lib = h;
                break;
            }
            if (first_error.empty()) first_error = dlerror();
        }
        if (g_cublas.lib != nullptr) break;
    }
    if (g_cublas.lib == nullptr) {
        g_cublas.error = "cuBLAS not found (libcublas.so." + std::to_string(major) +
                         " or another version, on LD_LIBRARY_PATH, $CUDA_HOME/lib64 or /usr/local/cuda/lib64): " + first_error;
        return;
    }
    g_cublas.create = reinterpret_cast<create_fn>(dlsym(g_cublas.lib, "cublasCreate_v2"));
    g_cublas.set_math = reinterpret_cast<set_math_fn>(dlsym(g_cublas.lib, "cublasSetMathMode"));
    g_cublas.set_stream = reinterpret_cast<set_stream_fn>(dlsym(g_cublas.lib, "cublasSetStream_v2"));
    g_cublas.sgemm = reinterpret_cast<sgemm_fn>(dlsym(g_cublas.lib, "cublasSgemm_v2"));
    g_cublas.sgemm_batched = reinterpret_cast<sgemm_batched_fn>(dlsym(g_cublas.lib, "cublasSgemmStridedBatched"));
    g_cublas.status_string = reinterpret_cast<status_string_fn>(dlsym(g_cublas.lib, "cublasGetStatusString"));
    if (!g_cublas.create || !g_cublas.set_math || !g_cublas.set_stream || !g_cublas.sgemm || !g_cublas.sgemm_batched) {
        g_cublas.error = "cuBLAS library lacks cublasCreate_v2/cublasSetMathMode/cublasSgemm_v2/cublasSgemmStridedBatched";
        dlclose(g_cublas.lib);
        g_cublas.lib = nullptr;
    }
}

std::string cublas_status(cublasStatus_t s) {
    if (g_cublas.status_string != nullptr) return g_cublas.status_string(s);
    return "cuBLAS status " + std::to_string(s);
}

// The current device's handle, created on first use; null after throwing.
cublasHandle_t cublas_handle(JNIEnv* env) {
    std::lock_guard<std::mutex> guard(g_cublas_lock);
    load_cublas_locked();
    if (g_cublas.lib == nullptr) {
        throw_java(env, g_cublas.error.c_str());
        return nullptr;
    }
    int dev = 0;
    if (failed(env, cudaGetDevice(&dev), "cudaGetDevice")) return nullptr;
    if (g_cublas.handles[dev] == nullptr) {
        cublasHandle_t h = nullptr;
        cublasStatus_t st = g_cublas.create(&h);
        if (st != 0) {
            throw_java(env, ("cublasCreate: " + cublas_status(st)).c_str());
            return nullptr;
        }
        g_cublas.set_stream(h, 0);
        g_cublas.set_math(h, g_cublas.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
        g_cublas.handles[dev] = h;
    }
    return g_cublas.handles[dev];
}
}  // namespace

// Row-major C[M x N] = alpha op(A) op(B) + beta C, batch strides in elements. cuBLAS is
// column-major: a row-major matrix is its transpose there, so C^T = op(B)^T op(A)^T is computed
// with the operands swapped.
bool gemm_batched(JNIEnv* env, bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                  long long strideA, const float* B, int ldb, long long strideB, float beta, float* C, int ldc,
                  long long strideC, int batch, const char* what) {
    if (M == 0 || N == 0 || batch == 0) return true;
    cublasHandle_t h = cublas_handle(env);
    if (h == nullptr) return false;
    const int opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasStatus_t st;
    if (batch == 1) {
        st = g_cublas.sgemm(h, opB, opA, N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc);
    } else {
        st = g_cublas.sgemm_batched(h, opB, opA, N, M, K, &alpha, B, ldb, strideB, A, lda, strideA, &beta, C, ldc, strideC, batch);
    }
    if (st != 0) {
        throw_java(env, (std::string(what) + ": " + cublas_status(st)).c_str());
        return false;
    }
    return !launch_failed(env, what);
}

}  // namespace vdep

using namespace vdep;

// ---------------------------------------------------------------- JNI: runtime

// Whether the driver library (libcuda.so.1) can be loaded at all.
RUNTIME_FN(jboolean, driverLibraryPresent)(JNIEnv*, jclass) {
    void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (h == nullptr) return JNI_FALSE;
    dlclose(h);
    return JNI_TRUE;
}

// cudaDriverGetVersion: 0 when no driver is installed.
RUNTIME_FN(jint, driverVersion)(JNIEnv*, jclass) {
    int v = 0;
    if (cudaDriverGetVersion(&v) != cudaSuccess) v = 0;
    return v;
}

RUNTIME_FN(jint, runtimeVersion)(JNIEnv*, jclass) {
    int v = 0;
    if (cudaRuntimeGetVersion(&v) != cudaSuccess) v = 0;
    return v;
}

RUNTIME_FN(jint, deviceCount)(JNIEnv* env, jclass) {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        cudaGetLastError();  // not sticky: clear it
        failed(env, err, "cudaGetDeviceCount");
        return 0;
    }
    return n;
}

RUNTIME_FN(jstring, deviceName)(JNIEnv* env, jclass, jint device) {
    cudaDeviceProp p;
    if (failed(env, cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties")) return nullptr;
    return env->NewStringUTF(p.name);
}

// {total global memory bytes, compute capability major, minor, multiprocessors}
RUNTIME_FN(jlongArray, deviceProperties)(JNIEnv* env, jclass, jint device) {
    cudaDeviceProp p;
    if (failed(env, cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties")) return nullptr;
    jlong v[4] = {static_cast<jlong>(p.totalGlobalMem), p.major, p.minor, p.multiProcessorCount};
    jlongArray out = env->NewLongArray(4);
    env->SetLongArrayRegion(out, 0, 4, v);
    return out;
}

RUNTIME_FN(void, setDevice)(JNIEnv* env, jclass, jint device) { failed(env, cudaSetDevice(device), "cudaSetDevice"); }

// {free, total} bytes of the current device
RUNTIME_FN(jlongArray, memoryInfo)(JNIEnv* env, jclass) {
    size_t free_b = 0, total_b = 0;
    if (failed(env, cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo")) return nullptr;
    jlong v[2] = {static_cast<jlong>(free_b), static_cast<jlong>(total_b)};
    jlongArray out = env->NewLongArray(2);
    env->SetLongArrayRegion(out, 0, 2, v);
    return out;
}

// Device memory, or 0 when the device is out of memory (the caller reports that itself).
RUNTIME_FN(jlong, malloc)(JNIEnv* env, jclass, jlong bytes) {
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, static_cast<size_t>(bytes));
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();  // clear it: running out is reported by the allocator
        return 0;
    }
    if (failed(env, err, "cudaMalloc")) return 0;
    return static_cast<jlong>(reinterpret_cast<intptr_t>(p));
}

RUNTIME_FN(void, free)(JNIEnv* env, jclass, jlong address) { failed(env, cudaFree(dptr<void>(address)), "cudaFree"); }

RUNTIME_FN(void, copyToDevice)(JNIEnv* env, jclass, jlong dst, jlong hostSrc, jlong bytes) {
    failed(env, cudaMemcpy(dptr<void>(dst), dptr<void>(hostSrc), static_cast<size_t>(bytes), cudaMemcpyHostToDevice),
           "cudaMemcpy(host to device)");
}

RUNTIME_FN(void, copyToHost)(JNIEnv* env, jclass, jlong hostDst, jlong src, jlong bytes) {
    failed(env, cudaMemcpy(dptr<void>(hostDst), dptr<void>(src), static_cast<size_t>(bytes), cudaMemcpyDeviceToHost),
           "cudaMemcpy(device to host)");
}

RUNTIME_FN(void, copyOnDevice)(JNIEnv* env, jclass, jlong dst, jlong src, jlong bytes) {
    failed(env, cudaMemcpyAsync(dptr<void>(dst), dptr<void>(src), static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, 0),
           "cudaMemcpy(device to device)");
}

// Direct ByteBuffer <-> device; offsets and lengths in bytes.
RUNTIME_FN(void, copyBufferToDevice)(JNIEnv* env, jclass, jlong dst, jobject buffer, jlong offset, jlong bytes) {
    char* src = static_cast<char*>(env->GetDirectBufferAddress(buffer));
    if (src == nullptr) {
        throw_java(env, "copyBufferToDevice: not a direct ByteBuffer");
        return;
    }
    failed(env, cudaMemcpy(dptr<void>(dst), src + offset, static_cast<size_t>(bytes), cudaMemcpyHostToDevice),
           "cudaMemcpy(buffer to device)");
}

RUNTIME_FN(void, copyDeviceToBuffer)(JNIEnv* env, jclass, jobject buffer, jlong offset, jlong src, jlong bytes) {
    char* dst = static_cast<char*>(env->GetDirectBufferAddress(buffer));
    if (dst == nullptr) {
        throw_java(env, "copyDeviceToBuffer: not a direct ByteBuffer");
        return;
    }
    failed(env, cudaMemcpy(dst + offset, dptr<void>(src), static_cast<size_t>(bytes), cudaMemcpyDeviceToHost),
           "cudaMemcpy(device to buffer)");
}

RUNTIME_FN(void, memset)(JNIEnv* env, jclass, jlong dst, jint value, jlong bytes) {
    failed(env, cudaMemsetAsync(dptr<void>(dst), value, static_cast<size_t>(bytes), 0), "cudaMemset");
}

RUNTIME_FN(void, synchronize)(JNIEnv* env, jclass) { failed(env, cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

// The pending error, if any, without clearing it ("no error" otherwise).
RUNTIME_FN(jstring, lastError)(JNIEnv* env, jclass) { return env->NewStringUTF(cudaGetErrorString(cudaPeekAtLastError())); }

// Null when cuBLAS loads, else the one-line reason.
RUNTIME_FN(jstring, loadCublas)(JNIEnv* env, jclass) {
    std::lock_guard<std::mutex> guard(g_cublas_lock);
    load_cublas_locked();
    return g_cublas.lib == nullptr ? env->NewStringUTF(g_cublas.error.c_str()) : nullptr;
}

// TF32 tensor-core math for the FP32 matrix products (off by default; off for parity checks).
RUNTIME_FN(void, setTf32)(JNIEnv*, jclass, jboolean on) {
    std::lock_guard<std::mutex> guard(g_cublas_lock);
    g_cublas.tf32 = on == JNI_TRUE;
    for (cublasHandle_t h : g_cublas.handles) {
        if (h != nullptr) g_cublas.set_math(h, g_cublas.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    }
}

// ---------------------------------------------------------------- JNI: matrix products

// Row-major C = alpha op(A) op(B) + beta C; lda/ldb/ldc are row strides in elements.
KERNEL_FN(void, gemm)(JNIEnv* env, jclass, jboolean transA, jboolean transB, jint M, jint N, jint K, jfloat alpha, jlong A,
                      jint lda, jlong B, jint ldb, jfloat beta, jlong C, jint ldc) {
    gemm_batched(env, transA == JNI_TRUE, transB == JNI_TRUE, M, N, K, alpha, dptr<const float>(A), lda, 0, dptr<const float>(B),
                 ldb, 0, beta, dptr<float>(C), ldc, 0, 1, "cublasSgemm");
}

KERNEL_FN(void, gemmStridedBatched)(JNIEnv* env, jclass, jboolean transA, jboolean transB, jint M, jint N, jint K, jfloat alpha,
                                    jlong A, jint lda, jlong strideA, jlong B, jint ldb, jlong strideB, jfloat beta, jlong C,
                                    jint ldc, jlong strideC, jint batch) {
    gemm_batched(env, transA == JNI_TRUE, transB == JNI_TRUE, M, N, K, alpha, dptr<const float>(A), lda, strideA,
                 dptr<const float>(B), ldb, strideB, beta, dptr<float>(C), ldc, strideC, batch, "cublasSgemmStridedBatched");
}
