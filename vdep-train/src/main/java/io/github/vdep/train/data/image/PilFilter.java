package io.github.vdep.train.data.image;

/**
 * Resampling filters of Pillow's {@code libImaging/Resample.c} that {@link PilResize} reproduces
 * bit for bit.
 *
 * <p>Only filters whose weights need nothing beyond {@code +,-,*} are offered: Lanczos and Hamming
 * call {@code sin}/{@code cos}, whose last-ulp results differ between libm and the JVM, which
 * could flip a fixed-point coefficient. Nearest neighbour goes through a different Pillow code
 * path and is not offered either.
 */
public enum PilFilter {
    /** {@code Image.BOX} (code 4), support 0.5. */
    BOX(4, 0.5),
    /** {@code Image.BILINEAR} (code 2), support 1. */
    BILINEAR(2, 1.0),
    /** {@code Image.BICUBIC} (code 3), support 2, Keys kernel with {@code a = -0.5}. */
    BICUBIC(3, 2.0);

    private final int pilCode;
    private final double support;

    PilFilter(int pilCode, double support) {
        this.pilCode = pilCode;
        this.support = support;
    }

    /** @return Pillow's integer code for this filter (the {@code resample} value in HF configs) */
    public int pilCode() {
        return pilCode;
    }

    /** @return the filter's support radius at scale 1, as in Pillow's {@code struct filter} */
    public double support() {
        return support;
    }

    /**
     * Evaluates the filter kernel. The expressions keep Pillow's operation order so that the
     * doubles, and hence the fixed-point coefficients, are identical.
     *
     * @param x distance from the sample centre, in (scaled) input pixels
     * @return the unnormalised weight
     */
    public double weight(double x) {
        switch (this) {
            case BOX:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case BILINEAR:
                if (x < 0.0) {
                    x = -x;
                }
                return x < 1.0 ? 1.0 - x : 0.0;
            case BICUBIC:
                if (x < 0.0) {
                    x = -x;
                }
                if (x < 1.0) {
                    return ((-0.5 + 2.0) * x - (-0.5 + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * -0.5;
                }
                return 0.0;
            default:
                throw new AssertionError(this);
        }
    }

    /**
     * Maps Pillow's resampling code to a filter.
     *
     * @param code Pillow's code (2 bilinear, 3 bicubic, 4 box)
     * @return the filter
     * @throws IllegalArgumentException for codes this class does not reproduce exactly
     */
    public static PilFilter fromPilCode(int code) {
        for (PilFilter f : values()) {
            if (f.pilCode == code) {
                return f;
            }
        }
        throw new IllegalArgumentException("Unsupported Pillow resample code " + code
                + " (supported: 2 = bilinear, 3 = bicubic, 4 = box; 0 nearest, 1 lanczos and "
                + "5 hamming are not implemented)");
    }
}
