package io.github.vdep.train.trainer;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.ops.F;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.loss.BatchMode;
import io.github.vdep.train.loss.HybridLoss;
import io.github.vdep.train.schedule.AlphaPolicy;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The gradient-balancing step of the {@code gradnorm} alpha policy. The tape runs one backward
 * pass per forward pass, so the two gradients are taken in two passes: the caller has already
 * back-propagated the text loss of every micro-batch (the parameters hold g_text); this copies
 * g_text aside, runs the micro-batches forward again and back-propagates the image loss alone
 * (g_image), measures both norms over the parameters both losses reach, asks the policy for
 * alpha, and leaves g_text + alpha * g_image in the parameters: exactly the gradient of
 * text + alpha * image, by linearity. Cost: a second forward and backward pass (without the LM
 * head) and one copy of the trainable gradients.
 */
final class GradientBalance {
    /** The step's alpha and the two gradient norms on the shared parameters. */
    record Result(double alpha, double textNorm, double imageNorm) {
    }

    private GradientBalance() {
    }

    static Result addImageGradients(LlavaModel model, HybridLoss loss, List<Batch> batches, List<BatchMode> modes, int gradAccum,
            Map<String, Parameter> trainable, AlphaPolicy policy) {
        Map<Parameter, INDArray> text = new IdentityHashMap<>();
        for (Parameter p : trainable.values()) {
            if (p.grad() != null) {
                text.put(p, p.grad().dup('c'));
                p.zeroGrad();
            }
        }
        for (int i = 0; i < batches.size(); i++) {
            Batch batch = batches.get(i);
            try (Tape tape = Tape.record(true)) {
                LlavaOutput out = model.forward(batch.inputs(), loss.decodeOptions(), false);
                Tensor image = loss.imageLoss(out, batch.labels(), batch.imageSample(), modes.get(i));
                if (image != null && image.requiresGrad()) {
                    tape.backward(gradAccum == 1 ? image : F.scale(image, 1.0 / gradAccum));
                }
            }
        }
        double textSq = 0;
        double imageSq = 0;
        for (Parameter p : trainable.values()) {
            INDArray t = text.get(p);
            if (t != null && p.grad() != null) {
                double a = t.norm2Number().doubleValue();
                double b = p.grad().norm2Number().doubleValue();
                textSq += a * a;
                imageSq += b * b;
            }
        }
        double textNorm = Math.sqrt(textSq);
        double imageNorm = Math.sqrt(imageSq);
        double alpha = policy.observeGradientNorms(textNorm, imageNorm);
        for (Parameter p : trainable.values()) {
            if (p.grad() != null) {
                p.grad().muli(alpha);
            }
            INDArray t = text.get(p);
            if (t != null) {
                p.accumulateGradOwned(t);
            }
        }
        return new Result(alpha, textNorm, imageNorm);
    }
}
