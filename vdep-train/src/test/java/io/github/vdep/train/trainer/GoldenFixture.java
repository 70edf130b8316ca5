package io.github.vdep.train.trainer;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.hf.SafeTensorsFile;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.data.DataPosition;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

/** The tiny llava-hf checkpoint and batch of scripts/golden (shared with vdep-models' golden test). */
final class GoldenFixture {
    static final Path MODEL_DIR = Path.of("../vdep-models/src/test/resources/golden/llava-tiny");
    static final Path TRAIN_STEPS = Path.of("src/test/resources/golden/train-steps/expected.safetensors");

    private GoldenFixture() {
    }

    static LlavaModel model() {
        return LlavaCheckpoint.load(MODEL_DIR).model();
    }

    static double alpha() {
        try (SafeTensorsFile in = SafeTensorsFile.open(MODEL_DIR.resolve("inputs.safetensors"))) {
            return in.load("alpha").getDouble(0);
        }
    }

    static Batch batch(long consumed) {
        try (SafeTensorsFile in = SafeTensorsFile.open(MODEL_DIR.resolve("inputs.safetensors"))) {
            return new Batch(in.load("input_ids"), in.load("attention_mask"), in.load("labels"), in.load("pixel_values"),
                    new int[] {0, 1}, List.of("a", "b"), new DataPosition(0, consumed));
        }
    }

    /** The fixture batch forever, positions counting consumed samples. */
    static BatchSource repeating() {
        return from -> new Iterator<>() {
            long consumed = from.consumed();

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Batch next() {
                consumed += 2;
                return batch(consumed);
            }
        };
    }
}
