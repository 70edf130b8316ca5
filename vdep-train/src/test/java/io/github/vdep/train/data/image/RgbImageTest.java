package io.github.vdep.train.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import org.junit.jupiter.api.Test;

/** Conversion of decoded images to RGB as Pillow's {@code convert("RGB")}. */
class RgbImageTest {

    @Test
    void greyIsReplicatedWithoutGammaConversion() {
        BufferedImage g = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(0, 0, 0, 128);
        g.getRaster().setSample(1, 0, 0, 37);
        RgbImage rgb = RgbImage.fromBufferedImage(g);
        for (int c = 0; c < 3; c++) {
            assertEquals(128, rgb.get(0, 0, c));
            assertEquals(37, rgb.get(1, 0, c));
        }
    }

    @Test
    void sixteenBitGreyClipsLikePillow() {
        // Pillow opens 16-bit greyscale as mode I and I -> RGB clips (ImageModesTest checks real files)
        BufferedImage g = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        g.getRaster().setSample(0, 0, 0, 0xAB12);
        g.getRaster().setSample(1, 0, 0, 0x0012);
        assertEquals(255, RgbImage.fromBufferedImage(g).get(0, 0, 1));
        assertEquals(0x12, RgbImage.fromBufferedImage(g).get(1, 0, 1));
    }

    @Test
    void alphaIsDroppedWithoutCompositing() {
        BufferedImage a = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        a.setRGB(0, 0, 0x00123456); // fully transparent
        RgbImage rgb = RgbImage.fromBufferedImage(a);
        assertEquals(0x12, rgb.get(0, 0, 0));
        assertEquals(0x34, rgb.get(0, 0, 1));
        assertEquals(0x56, rgb.get(0, 0, 2));

        BufferedImage abgr = new BufferedImage(1, 1, BufferedImage.TYPE_4BYTE_ABGR);
        WritableRaster r = abgr.getRaster();
        r.setPixel(0, 0, new int[] {10, 20, 30, 0});
        RgbImage rgb2 = RgbImage.fromBufferedImage(abgr);
        assertEquals(10, rgb2.get(0, 0, 0));
        assertEquals(20, rgb2.get(0, 0, 1));
        assertEquals(30, rgb2.get(0, 0, 2));
    }

    @Test
    void bgrLayoutIsReadAsRgb() {
        BufferedImage b = new BufferedImage(1, 1, BufferedImage.TYPE_3BYTE_BGR);
        b.setRGB(0, 0, 0x0A141E);
        RgbImage rgb = RgbImage.fromBufferedImage(b);
        assertEquals(0x0A, rgb.get(0, 0, 0));
        assertEquals(0x14, rgb.get(0, 0, 1));
        assertEquals(0x1E, rgb.get(0, 0, 2));
    }

    @Test
    void roundTripsThroughBufferedImage() {
        byte[] data = new byte[4 * 3 * 3];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        RgbImage img = new RgbImage(4, 3, data);
        assertEquals(img, RgbImage.fromBufferedImage(img.toBufferedImage()));
    }

    @Test
    void isImmutable() {
        byte[] data = new byte[3];
        RgbImage img = new RgbImage(1, 1, data);
        data[0] = 9;
        img.toByteArray()[1] = 9;
        assertEquals(0, img.get(0, 0, 0));
        assertEquals(0, img.get(0, 0, 1));
    }

    @Test
    void rejectsWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(2, 2, new byte[11]));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(0, 2, new byte[0]));
    }
}
