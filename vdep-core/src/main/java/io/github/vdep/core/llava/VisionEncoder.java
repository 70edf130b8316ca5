package io.github.vdep.core.llava;

import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Turns images into a sequence of feature vectors per image. Implement this to plug in your own
 * vision encoder; extend {@link io.github.vdep.core.nn.Module} as well if it has parameters
 * (they then appear under {@code vision_tower.} and can be frozen or trained like the rest).
 * A forward-only encoder returns constant tensors ({@link Tensor#constant}).
 */
public interface VisionEncoder {
    /**
     * @param pixelValues [numImages, channels, height, width], already preprocessed
     * @return [numImages, numPatches(), featureDim()]
     */
    Tensor encode(INDArray pixelValues);

    /** Width of each feature vector (the projector's input width). */
    int featureDim();

    /** Feature vectors per image: how many image placeholder tokens one image fills. */
    int numPatches();

    /** Expected square input resolution in pixels. */
    int imageSize();

    /**
     * Sets which activations the encoder recomputes in the backward pass, when it is trained. The
     * default ignores the setting and keeps its activations (a frozen encoder records nothing, so
     * there is nothing to recompute).
     */
    default void setRecompute(Recompute mode) {
    }
}
