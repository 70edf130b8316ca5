package io.github.vdep.models.clip;

import io.github.vdep.core.autograd.Checkpoint;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.autograd.ValueScope;
import io.github.vdep.core.llava.Recompute;
import io.github.vdep.core.llava.VisionEncoder;
import io.github.vdep.core.nn.LayerNorm;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.nn.ModuleList;
import io.github.vdep.core.ops.F;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Hugging Face's {@code CLIPVisionModel} as LLaVA uses it: the hidden state of
 * {@code featureLayer} (indexed over [embeddings after pre_layrnorm, layer 1, ..., layer L], so -2
 * is the output of the penultimate layer), with the CLS position dropped ({@code default}) or
 * kept ({@code full}). Layers past the selected one are not computed. Parameters are named
 * {@code vision_model.*} as in CLIP checkpoints.
 */
public final class ClipVisionTower extends Module implements VisionEncoder {
    private final ClipVisionConfig config;
    private final int featureLayer;
    private final boolean keepCls;
    private final VisionModel visionModel;
    private Recompute recompute = Recompute.NONE;

    /**
     * @param featureLayer LLaVA's {@code vision_feature_layer} (negative counts from the end)
     * @param selectStrategy {@code default} (drop CLS) or {@code full}
     */
    public ClipVisionTower(ClipVisionConfig config, int featureLayer, String selectStrategy, DataType dtype) {
        int states = config.numHiddenLayers() + 1;
        int index = featureLayer < 0 ? states + featureLayer : featureLayer;
        if (index < 0 || index >= states) {
            throw new IllegalArgumentException("vision_feature_layer " + featureLayer + " is outside the " + states
                    + " hidden states of a " + config.numHiddenLayers() + "-layer vision tower");
        }
        if (!selectStrategy.equals("default") && !selectStrategy.equals("full")) {
            throw new IllegalArgumentException("unsupported vision_feature_select_strategy '" + selectStrategy + "' (default or full)");
        }
        this.config = config;
        this.featureLayer = index;
        this.keepCls = selectStrategy.equals("full");
        this.visionModel = registerModule("vision_model", new VisionModel(config, dtype));
    }

    public ClipVisionConfig config() {
        return config;
    }

    /** The selected hidden-state index (0 = embeddings). */
    public int featureLayerIndex() {
        return featureLayer;
    }

    public String selectStrategy() {
        return keepCls ? "full" : "default";
    }

    @Override
    public Tensor encode(INDArray pixelValues) {
        long[] s = pixelValues.shape();
        if (s.length != 4 || s[1] != config.numChannels() || s[2] != config.imageSize() || s[3] != config.imageSize()) {
            throw new IllegalArgumentException("vision tower expects pixel values [n, " + config.numChannels() + ", "
                    + config.imageSize() + ", " + config.imageSize() + "], got " + Arrays.toString(s));
        }
        // frozen (nothing recorded): the layers' intermediates are freed here rather than by the GC
        try (ValueScope scope = ValueScope.open()) {
            Tensor h = visionModel.preLayerNorm.forward(visionModel.embeddings.forward(pixelValues));
            for (int i = 0; i < featureLayer; i++) {
                ClipEncoderLayer layer = visionModel.encoder.layers.get(i);
                if (recompute == Recompute.LAYERS) {
                    Tensor x = h;
                    h = Checkpoint.run(() -> layer.forward(x)); // a frozen tower records nothing: it just runs
                } else {
                    h = layer.forward(h);
                }
            }
            return scope.keep(keepCls ? h : F.slice(h, 1, 1, h.size(1)));
        }
    }

    /** Runs the whole tower including post_layernorm on the CLS token (CLIP's pooled output). */
    public Tensor pooledOutput(INDArray pixelValues) {
        Tensor h = visionModel.preLayerNorm.forward(visionModel.embeddings.forward(pixelValues));
        for (ClipEncoderLayer layer : visionModel.encoder.layers.items()) {
            h = layer.forward(h);
        }
        return visionModel.postLayerNorm.forward(F.reshape(F.slice(h, 1, 0, 1), h.size(0), h.size(2)));
    }

    /** {@link Recompute#LAYERS}: each encoder layer keeps only its input and is recomputed in the backward pass (when the tower trains). */
    @Override
    public void setRecompute(Recompute mode) {
        this.recompute = java.util.Objects.requireNonNull(mode, "mode");
    }

    @Override
    public int featureDim() {
        return config.hiddenSize();
    }

    @Override
    public int numPatches() {
        return config.numPatches() + (keepCls ? 1 : 0);
    }

    @Override
    public int imageSize() {
        return config.imageSize();
    }

    /** Random initialisation in the spirit of Hugging Face's CLIP init (normal, std 0.02-scaled). */
    public void initialize(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double std = 0.02;
        namedParameters().forEach((name, p) -> {
            if (name.endsWith("layer_norm1.weight") || name.endsWith("layer_norm2.weight") || name.endsWith("layrnorm.weight") || name.endsWith("layernorm.weight")) {
                p.value().assign(1);
            } else if (name.endsWith(".bias")) {
                p.value().assign(0);
            } else {
                p.load(io.github.vdep.core.nn.Init.normal(rng, std, p.dataType(), p.shape()));
            }
        });
    }

    static final class VisionModel extends Module {
        final ClipVisionEmbeddings embeddings;
        final LayerNorm preLayerNorm;
        final Encoder encoder;
        final LayerNorm postLayerNorm;

        VisionModel(ClipVisionConfig c, DataType dtype) {
            this.embeddings = registerModule("embeddings", new ClipVisionEmbeddings(c, dtype));
            this.preLayerNorm = registerModule("pre_layrnorm", new LayerNorm(c.hiddenSize(), c.layerNormEps(), dtype));
            this.encoder = registerModule("encoder", new Encoder(c, dtype));
            this.postLayerNorm = registerModule("post_layernorm", new LayerNorm(c.hiddenSize(), c.layerNormEps(), dtype));
        }
    }

    static final class Encoder extends Module {
        final ModuleList<ClipEncoderLayer> layers;

        Encoder(ClipVisionConfig c, DataType dtype) {
            this.layers = registerModule("layers", new ModuleList<>());
            for (int i = 0; i < c.numHiddenLayers(); i++) {
                layers.add(new ClipEncoderLayer(c, dtype));
            }
        }
    }
}
