package io.github.vdep.models.llava;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.clip.ClipVisionTower;
import io.github.vdep.models.llama.LlamaForCausalLM;
import io.github.vdep.models.projector.MlpProjector;
import org.nd4j.linalg.api.buffer.DataType;

/** Builds LLaVA models (CLIP tower, MLP projector, LLaMA) from a {@link LlavaConfig}. */
public final class LlavaModels {
    private LlavaModels() {
    }

    /** A model with zero/one-initialised parameters, ready to load weights into. */
    public static LlavaModel create(LlavaConfig config, DataType dtype) {
        ClipVisionTower vision = new ClipVisionTower(config.visionConfig(), config.featureLayer(), config.visionFeatureSelectStrategy(), dtype);
        MlpProjector projector = new MlpProjector(config.projectorType(), config.visionConfig().hiddenSize(),
                config.textConfig().hiddenSize(), config.projectorHiddenAct(), dtype);
        LlamaForCausalLM language = new LlamaForCausalLM(config.textConfig(), dtype);
        return new LlavaModel(vision, projector, language, config.imageTokenIndex());
    }

    /** A randomly initialised model (vision, projector and LM seeded from {@code seed}). */
    public static LlavaModel random(LlavaConfig config, DataType dtype, long seed) {
        LlavaModel model = create(config, dtype);
        ((ClipVisionTower) model.visionTower()).initialize(seed);
        ((MlpProjector) model.projector()).initialize(seed + 1);
        ((LlamaForCausalLM) model.languageModel()).initialize(seed + 2, 0.02);
        return model;
    }
}
