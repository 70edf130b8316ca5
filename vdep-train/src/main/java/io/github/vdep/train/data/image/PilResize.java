package io.github.vdep.train.data.image;

import java.util.Objects;

/**
 * Pillow's {@code Image.resize((w, h), filter)} for 8-bit RGB, reproduced bit for bit from
 * {@code libImaging/Resample.c}: separable convolution, horizontal pass first (only when the width
 * changes), then vertical (only when the height changes); filter support widened by the scale
 * when shrinking (antialiasing); weights normalised per output pixel, then turned into 22-bit
 * fixed point; each pass rounds and clips to uint8.
 *
 * <p>Not ported: Pillow's {@code reducing_gap} pre-reduction (off by default and unused by
 * Hugging Face) and resizing of a sub-box.
 */
public final class PilResize {

    /** 8 bits for the result and 2 for overflow of negative/over-unity coefficient sums. */
    static final int PRECISION_BITS = 32 - 8 - 2;

    private PilResize() {
    }

    /**
     * Resizes an image exactly as Pillow does (verified against Pillow 9.4).
     *
     * @param image  the source
     * @param width  output width, positive
     * @param height output height, positive
     * @param filter the resampling filter
     * @return the resized image ({@code image} itself when the size is unchanged: images are immutable)
     */
    public static RgbImage resize(RgbImage image, int width, int height, PilFilter filter) {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(filter, "filter");
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("Output size must be positive, got " + width + "x" + height);
        }
        int inW = image.width();
        int inH = image.height();
        boolean horizontal = width != inW;
        boolean vertical = height != inH;
        if (!horizontal && !vertical) {
            return image;
        }
        Coefficients vert = Coefficients.compute(inH, height, filter);
        byte[] src = image.data();
        int srcW = inW;
        int rowOffset = 0;
        if (horizontal) {
            // Only the source rows the vertical pass reads are resampled, as in Pillow.
            int first = vertical ? vert.bounds[0] : 0;
            int last = vertical ? vert.bounds[2 * height - 2] + vert.bounds[2 * height - 1] : inH;
            Coefficients horiz = Coefficients.compute(inW, width, filter);
            src = resampleHorizontal(src, inW, first, last - first, horiz, width);
            srcW = width;
            rowOffset = first;
            if (!vertical) {
                return RgbImage.wrap(width, height, src);
            }
        }
        return RgbImage.wrap(width, height, resampleVertical(src, srcW, rowOffset, vert, height));
    }

    private static byte[] resampleHorizontal(byte[] src, int inW, int firstRow, int rows,
                                             Coefficients c, int outW) {
        byte[] out = RgbImage.allocate(outW, rows);
        int[] kk = c.fixed;
        for (int yy = 0; yy < rows; yy++) {
            int rowBase = (yy + firstRow) * inW * 3;
            int o = yy * outW * 3;
            for (int xx = 0; xx < outW; xx++, o += 3) {
                int xmin = c.bounds[2 * xx];
                int count = c.bounds[2 * xx + 1];
                int k = xx * c.ksize;
                int ss0 = 1 << (PRECISION_BITS - 1);
                int ss1 = ss0;
                int ss2 = ss0;
                for (int x = 0, p = rowBase + xmin * 3; x < count; x++, p += 3) {
                    int w = kk[k + x];
                    ss0 += (src[p] & 0xff) * w;
                    ss1 += (src[p + 1] & 0xff) * w;
                    ss2 += (src[p + 2] & 0xff) * w;
                }
                out[o] = clip8(ss0);
                out[o + 1] = clip8(ss1);
                out[o + 2] = clip8(ss2);
            }
        }
        return out;
    }

    private static byte[] resampleVertical(byte[] src, int w, int rowOffset, Coefficients c, int outH) {
        byte[] out = RgbImage.allocate(w, outH);
        int[] kk = c.fixed;
        int stride = w * 3;
        for (int yy = 0; yy < outH; yy++) {
            int ymin = c.bounds[2 * yy] - rowOffset;
            int count = c.bounds[2 * yy + 1];
            int k = yy * c.ksize;
            int o = yy * stride;
            for (int i = 0; i < stride; i++) {
                int ss = 1 << (PRECISION_BITS - 1);
                for (int y = 0, p = ymin * stride + i; y < count; y++, p += stride) {
                    ss += (src[p] & 0xff) * kk[k + y];
                }
                out[o + i] = clip8(ss);
            }
        }
        return out;
    }

    /** Pillow's {@code clip8}: drop the fraction bits, saturate to [0, 255]. */
    private static byte clip8(int in) {
        int v = in >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /** Per-output-pixel source windows and fixed-point weights of one axis ({@code precompute_coeffs}). */
    static final class Coefficients {
        final int ksize;
        /** Pairs (first source index, number of taps) per output pixel. */
        final int[] bounds;
        /** {@code ksize} fixed-point weights per output pixel. */
        final int[] fixed;

        private Coefficients(int ksize, int[] bounds, int[] fixed) {
            this.ksize = ksize;
            this.bounds = bounds;
            this.fixed = fixed;
        }

        static Coefficients compute(int inSize, int outSize, PilFilter filter) {
            // Pillow computes (in1 - in0) in float for the box; exact for any real image size.
            double scale = (double) ((float) inSize - 0.0f) / outSize;
            double filterscale = Math.max(scale, 1.0);
            double support = filter.support() * filterscale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            if ((long) outSize * ksize > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("Resize to " + outSize + " pixels needs too many coefficients");
            }
            double[] kk = new double[outSize * ksize];
            int[] bounds = new int[outSize * 2];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                double ww = 0.0;
                double ss = 1.0 / filterscale;
                int xmin = (int) (center - support + 0.5);
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                int k = xx * ksize;
                for (int x = 0; x < xmax; x++) {
                    double w = filter.weight((x + xmin - center + 0.5) * ss);
                    kk[k + x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++) {
                    if (ww != 0.0) {
                        kk[k + x] /= ww;
                    }
                }
                bounds[2 * xx] = xmin;
                bounds[2 * xx + 1] = xmax;
            }
            int[] fixed = new int[kk.length];
            double one = 1 << PRECISION_BITS;
            for (int i = 0; i < kk.length; i++) {
                fixed[i] = kk[i] < 0 ? (int) (-0.5 + kk[i] * one) : (int) (0.5 + kk[i] * one);
            }
            return new Coefficients(ksize, bounds, fixed);
        }
    }
}
