/**
 * Hugging Face checkpoint interop: reading and writing the safetensors format, single-file and
 * sharded, and reading PyTorch {@code torch.save} files ({@code pytorch_model.bin}, sharded with
 * their index) through a restricted unpickler that never runs code from the file.
 *
 * <p>Entry points: {@link io.github.vdep.models.hf.TensorSources#openDirectory(java.nio.file.Path)}
 * to read a checkpoint directory, and {@link io.github.vdep.models.hf.SafeTensorsWriter} to write
 * one. All format and I/O errors are {@link io.github.vdep.models.hf.CheckpointException}s that
 * name the file and, where there is one, the tensor.
 */
package io.github.vdep.models.hf;
