// JNI layer over the C MPI API for vdep's data-parallel training (io.github.vdep.train.distributed.MpiNative).
// Every call runs on the training thread (MPI_THREAD_FUNNELED). Errors come back as return codes
// (MPI_ERRORS_RETURN on MPI_COMM_WORLD) and are thrown as IllegalStateException with MPI's message.
#include <jni.h>
// the C API only: no C++ bindings (Open MPI, MPICH)
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <dlfcn.h>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void throwState(JNIEnv* env, const std::string& what) {
    jclass c = env->FindClass("java/lang/IllegalStateException");
    if (c != nullptr) {
        env->ThrowNew(c, what.c_str());
    }
}

// True when rc is MPI_SUCCESS; otherwise throws naming the operation.
bool ok(JNIEnv* env, int rc, const char* op) {
    if (rc == MPI_SUCCESS) {
        return true;
    }
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throwState(env, std::string(op) + " failed: " + std::string(msg, len));
    return false;
}

MPI_Datatype type(jint code) {
    switch (code) {
        case 0: return MPI_FLOAT;
        case 1: return MPI_DOUBLE;
        default: return MPI_INT64_T;
    }
}

size_t width(jint code) {
    return code == 0 ? 4 : 8;
}

MPI_Op op(jint code) {
    switch (code) {
        case 1: return MPI_MIN;
        case 2: return MPI_MAX;
        default: return MPI_SUM;
    }
}

// MPI counts are int: reduce long buffers in pieces.
constexpr int64_t MAX_COUNT = 1 << 30;

int allreduceInPlace(void* data, int64_t count, jint code, MPI_Op o) {
    char* p = static_cast<char*>(data);
    while (count > 0) {
        int n = static_cast<int>(count < MAX_COUNT ? count : MAX_COUNT);
        int rc = MPI_Allreduce(MPI_IN_PLACE, p, n, type(code), o, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
        p += static_cast<size_t>(n) * width(code);
        count -= n;
    }
    return MPI_SUCCESS;
}

std::vector<char> bucket;

}  // namespace

extern "C" {

// Initialises MPI; returns the world size (rank via rank()).
JNIEXPORT jint JNICALL Java_io_github_vdep_train_distributed_MpiNative_init(JNIEnv* env, jclass) {
    // The JVM loads this library without RTLD_GLOBAL; Open MPI's plugins need libmpi's symbols
    // global, so libmpi is reopened that way before MPI_Init.
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&MPI_Init), &info) != 0 && info.dli_fname != nullptr) {
        dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    }
    // Open MPI's own SIGSEGV/SIGBUS handlers would replace the JVM's, which it needs to run.
    setenv("OMPI_MCA_opal_signal", "", 0);
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int provided = 0;
        if (!ok(env, MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread")) {
            return -1;
        }
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int size = 0;
    if (!ok(env, MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size")) {
        return -1;
    }
    return size;
}

JNIEXPORT jint JNICALL Java_io_github_vdep_train_distributed_MpiNative_rank(JNIEnv* env, jclass) {
    int rank = -1;
    ok(env, MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    return rank;
}

JNIEXPORT jstring JNICALL Java_io_github_vdep_train_distributed_MpiNative_library(JNIEnv* env, jclass) {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    std::string v(version, len);
    size_t nl = v.find_first_of("\r\n,");
    return env->NewStringUTF(v.substr(0, nl).c_str());
}

// In-place all-reduce of count elements at address (type 0 float, 1 double, 2 int64; op 0 sum, 1 min, 2 max).
JNIEXPORT void JNICALL Java_io_github_vdep_train_distributed_MpiNative_allreduce(JNIEnv* env, jclass, jlong address, jlong count,
        jint typeCode, jint opCode) {
    ok(env, allreduceInPlace(reinterpret_cast<void*>(address), count, typeCode, op(opCode)), "MPI_Allreduce");
}

JNIEXPORT void JNICALL Java_io_github_vdep_train_distributed_MpiNative_allreduceDoubles(JNIEnv* env, jclass, jdoubleArray values) {
    jsize n = env->GetArrayLength(values);
    std::vector<double> v(n);
    env->GetDoubleArrayRegion(values, 0, n, v.data());
    if (ok(env, allreduceInPlace(v.data(), n, 1, MPI_SUM), "MPI_Allreduce")) {
        env->SetDoubleArrayRegion(values, 0, n, v.data());
    }
}

JNIEXPORT void JNICALL Java_io_github_vdep_train_distributed_MpiNative_allreduceLongs(JNIEnv* env, jclass, jlongArray values, jint opCode) {
    jsize n = env->GetArrayLength(values);
    std::vector<int64_t> v(n);
    env->GetLongArrayRegion(values, 0, n, reinterpret_cast<jlong*>(v.data()));
    if (ok(env, allreduceInPlace(v.data(), n, 2, op(opCode)), "MPI_Allreduce")) {
        env->SetLongArrayRegion(values, 0, n, reinterpret_cast<jlong*>(v.data()));
    }
}

// Sums the arrays (all of one type) over the ranks in place, packed into buckets of bucketBytes:
// one MPI_Allreduce per bucket instead of one per tensor; an array larger than a bucket is reduced where it is.
JNIEXPORT void JNICALL Java_io_github_vdep_train_distributed_MpiNative_allreduceBuckets(JNIEnv* env, jclass, jlongArray addresses,
        jlongArray counts, jint typeCode, jlong bucketBytes) {
    jsize n = env->GetArrayLength(addresses);
    std::vector<jlong> addr(n), cnt(n);
    env->GetLongArrayRegion(addresses, 0, n, addr.data());
    env->GetLongArrayRegion(counts, 0, n, cnt.data());
    size_t w = width(typeCode);
    size_t cap = static_cast<size_t>(bucketBytes) / w;
    if (bucket.size() < cap * w) {
        bucket.resize(cap * w);
    }
    int first = 0;  // the arrays [first, i) are packed in the bucket
    size_t used = 0;
    auto flush = [&](int end) -> bool {
        if (used == 0) {
            return true;
        }
        if (!ok(env, allreduceInPlace(bucket.data(), static_cast<int64_t>(used), typeCode, MPI_SUM), "MPI_Allreduce")) {
            return false;
        }
        size_t at = 0;
        for (int j = first; j < end; j++) {
            size_t bytes = static_cast<size_t>(cnt[j]) * w;
            if (static_cast<size_t>(cnt[j]) <= cap) {
                std::memcpy(reinterpret_cast<void*>(addr[j]), bucket.data() + at, bytes);
                at += bytes;
            }
        }
        used = 0;
        return true;
    };
    for (int i = 0; i < n; i++) {
        size_t c = static_cast<size_t>(cnt[i]);
        if (c > cap) {
            // reduced in place; the bucket's contents wait for the next flush
            if (!ok(env, allreduceInPlace(reinterpret_cast<void*>(addr[i]), cnt[i], typeCode, MPI_SUM), "MPI_Allreduce")) {
                return;
            }
            continue;
        }
        if (used + c > cap) {
            if (!flush(i)) {
                return;
            }
            first = i;
        }
        if (used == 0) {
            first = i;
        }
        std::memcpy(bucket.data() + used * w, reinterpret_cast<void*>(addr[i]), c * w);
        used += c;
    }
    flush(n);
}

JNIEXPORT void JNICALL Java_io_github_vdep_train_distributed_MpiNative_broadcast(JNIEnv* env, jclass, jlong address, jlong count,
        jint typeCode, jint root) {
    char* p = reinterpret_cast<char*>(address);
    while (count > 0) {
        int n = static_cast<int>(count < MAX_COUNT ? count : MAX_COUNT);
        if (!ok(env, MPI_Bcast(p, n, type(typeCode), root, MPI_COMM_WORLD), "MPI_Bcast")) {
            return;
        }
        p += static_cast<size_t>(n) * width(typeCode);
        count -= n;
    }
}

JNIEXPORT void JNICALL Java_io_github_vdep_train_distributed_MpiNative_barrier(JNIEnv* env, jclass) {
    ok(env, MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

JNIEXPORT void JNICALL Java_io_github_vdep_train_distributed_MpiNative_abort(JNIEnv*, jclass, jint code) {
    MPI_Abort(MPI_COMM_WORLD, code);
}

JNIEXPORT void JNICALL Java_io_github_vdep_train_distributed_MpiNative_finish(JNIEnv* env, jclass) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
        ok(env, MPI_Finalize(), "MPI_Finalize");
    }
    std::vector<char>().swap(bucket);
}

}  // extern "C"
