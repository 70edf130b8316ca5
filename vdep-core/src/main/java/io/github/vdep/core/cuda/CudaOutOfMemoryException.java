package io.github.vdep.core.cuda;

/**
 * The GPU has no room for an allocation even after the allocator released its cached blocks.
 * The message is one line: what was being allocated, how many bytes, what is in use, and what
 * to lower.
 */
public class CudaOutOfMemoryException extends CudaException {
    private static final long serialVersionUID = 1L;

    public CudaOutOfMemoryException(String message) {
        super(message);
    }
}
