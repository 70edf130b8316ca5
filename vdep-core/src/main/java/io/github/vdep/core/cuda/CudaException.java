package io.github.vdep.core.cuda;

/**
 * A CUDA or cuBLAS call failed. The message is one line: the call and the CUDA error string
 * (for example {@code cudaMemcpy(host to device): an illegal memory access was encountered}).
 */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaException(String message) {
        super(message);
    }
}
