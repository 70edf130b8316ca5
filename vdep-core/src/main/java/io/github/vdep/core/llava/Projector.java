package io.github.vdep.core.llava;

import io.github.vdep.core.autograd.Tensor;

/** Maps vision features [..., inputDim] into the language model's embedding space [..., outputDim]. */
public interface Projector {
    Tensor project(Tensor features);

    int inputDim();

    int outputDim();
}
