package io.github.vdep.train.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoding failures surface as {@link ImageDecodeException}s naming the file. */
class ImageLoaderTest {

    private static ImageDecodeException assertFails(Path f, String reasonFragment) {
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ClipImageProcessor.load(f));
        assertEquals(f, e.file());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(reasonFragment), e.getMessage());
        return e;
    }

    @Test
    void missingFile(@TempDir Path dir) {
        assertFails(dir.resolve("absent.jpg"), "does not exist");
    }

    @Test
    void directory(@TempDir Path dir) {
        assertFails(dir, "not a regular file");
    }

    @Test
    void emptyFile(@TempDir Path dir) throws IOException {
        Path f = Files.createFile(dir.resolve("empty.png"));
        assertFails(f, "unrecognised image format");
    }

    @Test
    void notAnImage(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("text.jpg"), "this is not an image\n");
        assertFails(f, "unrecognised image format");
    }

    @Test
    void truncatedPng(@TempDir Path dir) throws IOException {
        byte[] png = ImageFixtures.bytes("rgb_50x37.png");
        Path f = Files.write(dir.resolve("cut.png"), Arrays.copyOf(png, png.length / 2));
        assertFails(f, "PNG");
    }

    @Test
    void truncatedJpeg(@TempDir Path dir) throws IOException {
        byte[] jpg = ImageFixtures.bytes("photo_48x40.jpg");
        Path f = Files.write(dir.resolve("cut.jpg"), Arrays.copyOf(jpg, jpg.length / 2));
        assertFails(f, "truncated");
    }

    @Test
    void jpegWithoutEndMarkerIsTruncatedAsInPillow(@TempDir Path dir) throws IOException {
        byte[] jpg = ImageFixtures.bytes("photo_48x40.jpg");
        Path f = Files.write(dir.resolve("noeoi.jpg"), Arrays.copyOf(jpg, jpg.length - 2));
        assertFails(f, "truncated");
    }

    @Test
    void corruptPngHeader(@TempDir Path dir) throws IOException {
        byte[] png = ImageFixtures.bytes("rgb_50x37.png");
        byte[] bad = png.clone();
        for (int i = 16; i < 29; i++) {
            bad[i] = (byte) 0xff; // IHDR fields: absurd size and depth
        }
        Path f = Files.write(dir.resolve("bad.png"), bad);
        assertFails(f, "Cannot decode image");
    }

    @Test
    void validFilesLoad() {
        assertEquals(50, ClipImageProcessor.load(ImageFixtures.file("rgb_50x37.png")).getWidth());
        assertEquals(40, ImageLoader.loadRgb(ImageFixtures.file("photo_48x40.jpg")).height());
    }
}
