package io.github.vdep.train.infer;

import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageLoader;
import io.github.vdep.train.data.image.RgbImage;
import java.nio.file.Path;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An image ready for the model, with the pixels it was made from.
 *
 * @param prepared    the image after aspect handling, resize and crop (what the model sees, in
 *                    8-bit RGB; attention maps are drawn over it)
 * @param pixelValues the processed pixels, {@code [1, 3, H, W]} float32
 */
public record ImageInput(RgbImage prepared, INDArray pixelValues) {

    /** Rejects nulls. */
    public ImageInput {
        Objects.requireNonNull(prepared, "prepared");
        Objects.requireNonNull(pixelValues, "pixelValues");
    }

    /**
     * Loads and processes an image file.
     *
     * @param processor the image processor
     * @param file      the image file
     * @return the image input
     * @throws io.github.vdep.train.data.image.ImageDecodeException if the file cannot be decoded
     *                                                               (the message names it)
     */
    public static ImageInput load(ClipImageProcessor processor, Path file) {
        RgbImage prepared = processor.prepare(ImageLoader.loadRgb(file));
        float[] pixels = processor.pixelValues(prepared);
        INDArray values = Nd4j.create(pixels, new long[] {1, 3, prepared.height(), prepared.width()}, DataType.FLOAT);
        return new ImageInput(prepared, values);
    }
}
