package io.cnnlens.image;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the OpenCV natives cannot load, JPEGs take the ImageIO path at full size and nothing fails.
 * Run in a child JVM (the natives load once per JVM): one told that it runs on linux-arm64, whose
 * natives are not on the class path (a real load failure, UnsatisfiedLinkError), and one with the
 * path switched off by its system property.
 */
class NativeFallbackTest {

    /** The child: decodes a 64 x 48 JPEG for a target that 1/8 covers and prints what it got. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            byte[] jpg = ScaledDecodeTest.jpeg(ScaledDecodeTest.gradient(64, 48), false);
            ImageDecoder d = new ImageDecoder(1_000_000);
            ScaledPixels s = d.decode(jpg, DecodeTarget.shorterSide(6));
            double sum = 0;
            for (float v : s.pixels().data()) {
                sum += v;
            }
            double ref = 0;
            for (float v : ImageDecoder.imageIoOnly(1_000_000).decode(jpg).data()) {
                ref += v;
            }
            System.out.println("native=" + d.nativeJpeg() + " reduction=" + s.reduction() + " width=" + s.pixels().width()
                    + " sameAsImageIo=" + (sum == ref));
        }
    }

    private static String child(String... props) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(List.of(props));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Child.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child finished");
        assertEquals(0, p.exitValue(), out);
        return out.lines().filter(l -> l.startsWith("native=")).findFirst().orElse(out);
    }

    @Test
    void jpegsFallBackToImageIoWhenTheNativesDoNotLoad() throws Exception {
        assertEquals("native=false reduction=1 width=64 sameAsImageIo=true",
                child("-Dorg.bytedeco.javacpp.platform=linux-arm64"));
        assertEquals("native=false reduction=1 width=64 sameAsImageIo=true",
                child("-D" + NativeJpeg.ENABLED_KEY + "=false"));
    }
}
