package io.cnnlens.tests;

import io.cnnlens.jobs.cli.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** filters and activations through the command line: pictures where they say, clear errors. */
class PictureCommandsTest extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void filtersAndActivationsPictures() throws Exception {
        String out = tmp.resolve("out").toString();
        assertEquals(0, Cli.run("filters", "--out", out));
        assertEquals(0, Cli.run("filters", "--out", out, "--layer", "conv2", "--max-filters", "4", "--max-inputs", "5"));
        BufferedImage first = ImageIO.read(tmp.resolve("out/pictures/filters/conv1/filters.png").toFile());
        BufferedImage second = ImageIO.read(tmp.resolve("out/pictures/filters/conv2/filters.png").toFile());
        assertTrue(first.getWidth() > 100 && second.getHeight() > 4 * 24, "both layers' pictures are kept");
        assertEquals(0, Cli.run("activations", "--out", out, "--layer", "conv2", "--sample", "3", "--master", "local[2]"));
        try (Stream<Path> files = Files.list(tmp.resolve("out/pictures/activations/conv2"))) {
            assertEquals(3, files.filter(p -> p.toString().endsWith(".png")).count());
        }
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            assertEquals(1, Cli.run("filters", "--out", out, "--layer", "conv9"));
            assertEquals(1, Cli.run("activations", "--out", out, "--layer", "fc7", "--sample", "1", "--master", "local[2]"));
        } finally {
            System.setErr(err);
        }
        String msg = buf.toString();
        assertTrue(msg.contains("has no conv layer 'conv9'"), msg);
        assertTrue(msg.contains("layer fc7 is not a conv layer"), msg);
    }
}
