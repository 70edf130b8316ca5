// NCCL for data-parallel training on GPUs: the JNI side of io.github.vdep.core.cuda.Nccl.
//
// NCCL is loaded at run time with dlopen("libnccl.so.2"), as runtime.cu loads cuBLAS, so building
// needs neither nccl.h nor libnccl (Debian has no NCCL package). The types, enum values and
// signatures below are the small, ABI-stable subset of NCCL's public C API that vdep calls,
// transcribed from NVIDIA/nccl src/nccl.h.in (NCCL 2.30.7, commit 5067397c; unchanged since
// NCCL 2.x introduced ncclBfloat16 in 2.10). The soname libnccl.so.2 is NCCL's ABI version.
//
// Every collective runs in place on the legacy default stream (stream 0), the stream all of
// libvdepcuda.so's kernels and copies use, so it starts after the backward pass's kernels that
// wrote the gradients and before the optimizer's kernels that read them.
#include "vdep_cuda.cuh"

#include <dlfcn.h>

#include <cstddef>
#include <mutex>
#include <string>

namespace {

// ---- from nccl.h.in (NCCL 2.x)
typedef struct ncclComm* ncclComm_t;
#define NCCL_UNIQUE_ID_BYTES 128
typedef struct {
    char internal[NCCL_UNIQUE_ID_BYTES];
} ncclUniqueId;
typedef enum {
    ncclSuccess = 0,
    ncclUnhandledCudaError = 1,
    ncclSystemError = 2,
    ncclInternalError = 3,
    ncclInvalidArgument = 4,
    ncclInvalidUsage = 5,
    ncclRemoteError = 6,
    ncclInProgress = 7,
    ncclTimeout = 8,
    ncclNumResults = 9
} ncclResult_t;
typedef enum { ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3, ncclAvg = 4 } ncclRedOp_t;
typedef enum {
    ncclInt8 = 0,
    ncclUint8 = 1,
    ncclInt32 = 2,
    ncclUint32 = 3,
    ncclInt64 = 4,
    ncclUint64 = 5,
    ncclFloat16 = 6,
    ncclFloat32 = 7,
    ncclFloat64 = 8,
    ncclBfloat16 = 9
} ncclDataType_t;

typedef ncclResult_t (*get_version_fn)(int*);
typedef ncclResult_t (*get_unique_id_fn)(ncclUniqueId*);
typedef ncclResult_t (*comm_init_rank_fn)(ncclComm_t*, int, ncclUniqueId, int);
typedef ncclResult_t (*all_reduce_fn)(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t);
typedef ncclResult_t (*broadcast_fn)(const void*, void*, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t);
typedef ncclResult_t (*group_fn)();
typedef ncclResult_t (*comm_fn)(ncclComm_t);
typedef ncclResult_t (*async_error_fn)(ncclComm_t, ncclResult_t*);
typedef const char* (*error_string_fn)(ncclResult_t);
// ---- end of the nccl.h.in subset

struct Nccl {
    bool tried = false;
    void* lib = nullptr;
    std::string error;
    get_version_fn get_version = nullptr;
    get_unique_id_fn get_unique_id = nullptr;
    comm_init_rank_fn comm_init_rank = nullptr;
    all_reduce_fn all_reduce = nullptr;
    broadcast_fn broadcast = nullptr;
    group_fn group_start = nullptr;
    group_fn group_end = nullptr;
    comm_fn comm_abort = nullptr;
    comm_fn comm_destroy = nullptr;
    async_error_fn async_error = nullptr;
    error_string_fn error_string = nullptr;
};
Nccl g_nccl;
std::mutex g_nccl_lock;

// Operations per ncclGroupStart/End: well under NCCL's limit on one group (NCCL_MAX_OPS, 2048).
constexpr jsize GROUP = 256;

template <typename F>
bool symbol(F& fn, const char* name) {
    fn = reinterpret_cast<F>(dlsym(g_nccl.lib, name));
    return fn != nullptr;
}

// libnccl.so.2 through the loader's search path (LD_LIBRARY_PATH, ldconfig), then the usual
// places of NVIDIA's packages and of a CUDA toolkit.
void load_locked() {
    if (g_nccl.tried) return;
    g_nccl.tried = true;
    std::string dirs[] = {"", "", "/usr/local/cuda/lib64/", "/usr/lib/x86_64-linux-gnu/"};
    const char* home = getenv("NCCL_HOME");
    if (home != nullptr && home[0] != '\0') dirs[1] = std::string(home) + "/lib/";
    std::string first_error;
    for (const std::string& dir : dirs) {
        if (&dir == &dirs[1] && dir.empty()) continue;
        void* h = dlopen((dir + "libnccl.so.2").c_str(), RTLD_NOW | RTLD_LOCAL);
        if (h != nullptr) {
            g_nccl.lib = h;
            break;
        }
        if (first_error.empty()) first_error = dlerror();
    }
    if (g_nccl.lib == nullptr) {
        g_nccl.error = "libnccl.so.2 not found (on LD_LIBRARY_PATH, $NCCL_HOME/lib, /usr/local/cuda/lib64 or the system library "
                       "directories; install NVIDIA's libnccl2 package or pip's nvidia-nccl-cu12 and add its lib directory "
                       "to LD_LIBRARY_PATH): " + first_error;
        return;
    }
    bool ok = symbol(g_nccl.get_version, "ncclGetVersion") && symbol(g_nccl.get_unique_id, "ncclGetUniqueId") &&
              symbol(g_nccl.comm_init_rank, "ncclCommInitRank") && symbol(g_nccl.all_reduce, "ncclAllReduce") &&
              symbol(g_nccl.broadcast, "ncclBroadcast") && symbol(g_nccl.group_start, "ncclGroupStart") &&
              symbol(g_nccl.group_end, "ncclGroupEnd") && symbol(g_nccl.comm_abort, "ncclCommAbort") &&
              symbol(g_nccl.comm_destroy, "ncclCommDestroy") && symbol(g_nccl.async_error, "ncclCommGetAsyncError") &&
              symbol(g_nccl.error_string, "ncclGetErrorString");
    if (!ok) {
        g_nccl.error = "libnccl.so.2 lacks one of ncclGetVersion, ncclGetUniqueId, ncclCommInitRank, ncclAllReduce, ncclBroadcast, "
                       "ncclGroupStart/End, ncclCommAbort/Destroy, ncclCommGetAsyncError, ncclGetErrorString (NCCL 2.4 or newer is needed)";
        dlclose(g_nccl.lib);
        g_nccl.lib = nullptr;
    }
}

// Throws unless NCCL is loaded; returns whether it is.
bool ready(JNIEnv* env) {
    std::lock_guard<std::mutex> guard(g_nccl_lock);
    load_locked();
    if (g_nccl.lib == nullptr) {
        vdep::throw_java(env, g_nccl.error.c_str());
        return false;
    }
    return true;
}

// If r is not ncclSuccess: throws "<what>: <NCCL's error string>" and returns true.
bool nccl_failed(JNIEnv* env, ncclResult_t r, const char* what) {
    if (r == ncclSuccess) return false;
    vdep::throw_java(env, (std::string(what) + ": " + g_nccl.error_string(r) + " (NCCL error " + std::to_string(r) +
                           "; NCCL_DEBUG=WARN says more)").c_str());
    return true;
}

ncclComm_t comm_of(jlong comm) { return reinterpret_cast<ncclComm_t>(static_cast<intptr_t>(comm)); }

// The vdep type code (io.github.vdep.core.cuda.NcclApi) as NCCL's: 0 float32, 1 float64, 2 bfloat16, 3 int64.
bool data_type(JNIEnv* env, jint type, ncclDataType_t* out) {
    switch (type) {
        case 0: *out = ncclFloat32; return true;
        case 1: *out = ncclFloat64; return true;
        case 2: *out = ncclBfloat16; return true;
        case 3: *out = ncclInt64; return true;
        default: vdep::throw_java(env, ("NCCL: unknown vdep type code " + std::to_string(type)).c_str()); return false;
    }
}

// Runs op(address, count) in place for each buffer, GROUP at a time inside ncclGroupStart/End
// (one fused launch per group rather than one per tensor).
template <typename Op>
void grouped(JNIEnv* env, jlongArray addresses, jlongArray counts, const char* what, Op op) {
    const jsize n = env->GetArrayLength(addresses);
    if (env->GetArrayLength(counts) != n) {
        vdep::throw_java(env, (std::string(what) + ": addresses and counts differ in length").c_str());
        return;
    }
    jlong* a = env->GetLongArrayElements(addresses, nullptr);
    jlong* c = env->GetLongArrayElements(counts, nullptr);
    for (jsize from = 0; from < n; from += GROUP) {
        const jsize to = from + GROUP < n ? from + GROUP : n;
        if (nccl_failed(env, g_nccl.group_start(), "ncclGroupStart")) break;
        ncclResult_t r = ncclSuccess;
        jsize i = from;
        for (; i < to && r == ncclSuccess; i++) r = op(vdep::dptr<void>(a[i]), static_cast<size_t>(c[i]));
        ncclResult_t end = g_nccl.group_end();
        if (nccl_failed(env, r, what) || nccl_failed(env, end, "ncclGroupEnd")) break;
    }
    env->ReleaseLongArrayElements(counts, c, JNI_ABORT);
    env->ReleaseLongArrayElements(addresses, a, JNI_ABORT);
}

}  // namespace

#define NCCL_FN(ret, name) extern "C" JNIEXPORT ret JNICALL Java_io_github_vdep_core_cuda_Nccl_##name

// Null when libnccl.so.2 loads with every function vdep calls, else the one-line reason.
NCCL_FN(jstring, load)(JNIEnv* env, jclass) {
    std::lock_guard<std::mutex> guard(g_nccl_lock);
    load_locked();
    return g_nccl.lib == nullptr ? env->NewStringUTF(g_nccl.error.c_str()) : nullptr;
}

// NCCL_VERSION_CODE, for example 23007 for 2.30.7.
NCCL_FN(jint, version)(JNIEnv* env, jclass) {
    if (!ready(env)) return 0;
    int v = 0;
    nccl_failed(env, g_nccl.get_version(&v), "ncclGetVersion");
    return v;
}

// A new ncclUniqueId (on rank 0; the others receive it over MPI).
NCCL_FN(jbyteArray, uniqueId)(JNIEnv* env, jclass) {
    if (!ready(env)) return nullptr;
    ncclUniqueId id;
    if (nccl_failed(env, g_nccl.get_unique_id(&id), "ncclGetUniqueId")) return nullptr;
    jbyteArray out = env->NewByteArray(NCCL_UNIQUE_ID_BYTES);
    if (out != nullptr) env->SetByteArrayRegion(out, 0, NCCL_UNIQUE_ID_BYTES, reinterpret_cast<const jbyte*>(id.internal));
    return out;
}

// ncclCommInitRank on the calling thread's current CUDA device; returns the communicator.
NCCL_FN(jlong, initRank)(JNIEnv* env, jclass, jint nranks, jbyteArray uniqueId, jint rank) {
    if (!ready(env)) return 0;
    if (env->GetArrayLength(uniqueId) != NCCL_UNIQUE_ID_BYTES) {
        vdep::throw_java(env, "ncclCommInitRank: the unique id must have 128 bytes");
        return 0;
    }
    ncclUniqueId id;
    env->GetByteArrayRegion(uniqueId, 0, NCCL_UNIQUE_ID_BYTES, reinterpret_cast<jbyte*>(id.internal));
    ncclComm_t comm = nullptr;
    if (nccl_failed(env, g_nccl.comm_init_rank(&comm, nranks, id, rank), "ncclCommInitRank")) return 0;
    return static_cast<jlong>(reinterpret_cast<intptr_t>(comm));
}

// In-place sums over the ranks, on stream 0.
NCCL_FN(void, allReduceSum)(JNIEnv* env, jclass, jlong comm, jlongArray addresses, jlongArray counts, jint type) {
    ncclDataType_t t;
    if (!ready(env) || !data_type(env, type, &t)) return;
    grouped(env, addresses, counts, "ncclAllReduce", [&](void* p, size_t n) {
        return g_nccl.all_reduce(p, p, n, t, ncclSum, comm_of(comm), 0);
    });
}

// In-place broadcasts from root, on stream 0.
NCCL_FN(void, broadcast)(JNIEnv* env, jclass, jlong comm, jlongArray addresses, jlongArray counts, jint type, jint root) {
    ncclDataType_t t;
    if (!ready(env) || !data_type(env, type, &t)) return;
    grouped(env, addresses, counts, "ncclBroadcast", [&](void* p, size_t n) {
        return g_nccl.broadcast(p, p, n, t, root, comm_of(comm), 0);
    });
}

// Null, or the communicator's asynchronous error (a peer that failed, a network error).
NCCL_FN(jstring, asyncError)(JNIEnv* env, jclass, jlong comm) {
    if (!ready(env)) return nullptr;
    ncclResult_t state = ncclSuccess;
    if (nccl_failed(env, g_nccl.async_error(comm_of(comm), &state), "ncclCommGetAsyncError")) return nullptr;
    if (state == ncclSuccess || state == ncclInProgress) return nullptr;
    return env->NewStringUTF(g_nccl.error_string(state));
}

// Frees the communicator, aborting what is still running on the device (after a failure).
NCCL_FN(void, abort)(JNIEnv* env, jclass, jlong comm) {
    if (!ready(env)) return;
    nccl_failed(env, g_nccl.comm_abort(comm_of(comm)), "ncclCommAbort");
}

// Frees the communicator after its work is done (the end of a run).
NCCL_FN(void, destroy)(JNIEnv* env, jclass, jlong comm) {
    if (!ready(env)) return;
    nccl_failed(env, g_nccl.comm_destroy(comm_of(comm)), "ncclCommDestroy");
}
