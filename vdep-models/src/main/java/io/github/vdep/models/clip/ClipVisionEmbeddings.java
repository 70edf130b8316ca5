package io.github.vdep.models.clip;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.Embedding;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Patch embedding (a convolution with stride = kernel, no bias, computed as a matmul over
 * flattened patches), the class token and learned position embeddings.
 */
public final class ClipVisionEmbeddings extends Module {
    private final ClipVisionConfig config;
    private final Parameter classEmbedding;
    private final PatchEmbedding patchEmbedding;
    private final Embedding positionEmbedding;

    public ClipVisionEmbeddings(ClipVisionConfig c, DataType dtype) {
        this.config = c;
        this.classEmbedding = registerParameter("class_embedding", Nd4j.zeros(dtype, c.hiddenSize()));
        this.patchEmbedding = registerModule("patch_embedding", new PatchEmbedding(c, dtype));
        this.positionEmbedding = registerModule("position_embedding", new Embedding(c.numPatches() + 1, c.hiddenSize(), dtype));
    }

    /** pixels [B, C, H, W] to [B, 1 + patches, D]. */
    public Tensor forward(INDArray pixels) {
        long b = pixels.size(0);
        Tensor patches = patchEmbedding.forward(pixels);
        Tensor cls = F.add(Tensor.constant(Nd4j.zeros(classEmbedding.dataType(), b, 1, config.hiddenSize())).to(classEmbedding.device()), classEmbedding);
        return F.add(F.concat(1, cls, patches), positionEmbedding.weight());
    }

    /** The conv weight [D, C, p, p] as Hugging Face stores it. */
    public static final class PatchEmbedding extends Module {
        private final Parameter weight;
        private final int channels;
        private final int patch;
        private final int grid;

        PatchEmbedding(ClipVisionConfig c, DataType dtype) {
            this.weight = registerParameter("weight", Nd4j.zeros(dtype, c.hiddenSize(), c.numChannels(), c.patchSize(), c.patchSize()));
            this.channels = c.numChannels();
            this.patch = c.patchSize();
            this.grid = c.gridSize();
        }

        /** pixels [B, C, H, W] to [B, grid*grid, D], patches in row-major grid order. */
        Tensor forward(INDArray pixels) {
            long b = pixels.size(0);
            // [B, C, gh, p, gw, p] -> [B, gh, gw, C, p, p]: each patch flattened in (c, ky, kx) order, as the conv weight
            INDArray patches = pixels.castTo(weight.dataType()).reshape('c', b, channels, grid, patch, grid, patch)
                    .permute(0, 2, 4, 1, 3, 5).dup('c').reshape('c', b, (long) grid * grid, (long) channels * patch * patch);
            Tensor w = F.reshape(weight, weight.size(0), (long) channels * patch * patch);
            // the batch's one upload to the weights' device (none on the CPU)
            return F.linear(Tensor.constant(patches).to(weight.device()), w, null);
        }
    }
}
