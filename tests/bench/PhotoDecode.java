// Single-file Java program for tests/bench/photo-decode.sh: the JVM side of the decode benchmark.
//   throughput <dir> <spec> <rounds>  decode + preprocess every JPEG of <dir> (bytes read into memory
//       first) on one thread, ImageIO-only decoder ("old": full-size decode, then Resize) and the native
//       scaled decoder ("new": DCT-reduced decode, then Resize), alternating within each round (a
//       warm-up pass of each first); prints "round R old|new <images/s> <images> <seconds>".
//   agree <dir> <spec>  for every JPEG: the model input by both decoders (0..255 model pixels, before
//       normalisation) and the model's fc7 on both; prints the largest and mean |pixel diff|, max |fc7
//       diff|, max |fc7 diff| / max |fc7|, and kNN-10 agreement (L2 on fc7, the image itself excluded:
//       the mean share of each image's 10 nearest by old fc7 that are among its 10 nearest by new fc7).
//       Each further argument name=file.f32 (model inputs in file order, N x C x H x W float32 little-endian,
//       e.g. PIL's from photo_decode_pil.py --tensors) adds the same figures for every pair of inputs,
//       as a scale for what two accepted implementations of one resize policy differ by.
//   corrupt <dir> <spec>  the first 100 files, each with 16 seeded random bytes overwritten in the middle half
//       of the file (a complete file damaged inside its entropy-coded data): how many each decoder refuses.
// Usage: java -cp <jobs jar>:<classpath> tests/bench/PhotoDecode.java <mode> <dir> <spec> [rounds | name=file.f32 ...]
import ai.djl.Device;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

public class PhotoDecode {

    static final long MAX_PIXELS = 50_000_000L;

    static List<byte[]> read(Path dir) throws Exception {
        List<byte[]> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".jpg")).sorted().toList()) {
                out.add(Files.readAllBytes(p));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no .jpg files in " + dir);
        }
        return out;
    }

    static float checksum;

    static double pass(List<byte[]> files, ImageDecoder d, Preprocessor pre, int limit) throws DecodeException {
        float[] out = new float[pre.floatsPerImage()];
        long t0 = System.nanoTime();
        int n = Math.min(limit, files.size());
        for (int i = 0; i < n; i++) {
            pre.apply(d.decode(files.get(i), pre.decodeTarget()), out, 0);
            checksum += out[i % out.length];
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    public static void main(String[] a) throws Exception {
        String mode = a[0];
        List<byte[]> files = read(Path.of(a[1]));
        ModelSpec spec = ModelSpec.load(Path.of(a[2]));
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder oldD = ImageDecoder.imageIoOnly(MAX_PIXELS);
        ImageDecoder newD = new ImageDecoder(MAX_PIXELS);
        if (mode.equals("throughput")) {
            int rounds = Integer.parseInt(a[3]);
            int warm = Math.max(20, files.size() / 20);
            pass(files, oldD, pre, warm);
            pass(files, newD, pre, warm);
            if (!newD.nativeJpeg()) {
                throw new IllegalStateException("the native JPEG decoder did not load");
            }
            for (int r = 1; r <= rounds; r++) {
                String[] order = r % 2 == 1 ? new String[] {"old", "new"} : new String[] {"new", "old"};
                for (String side : order) {
                    double s = pass(files, side.equals("old") ? oldD : newD, pre, Integer.MAX_VALUE);
                    System.out.printf(Locale.ROOT, "round %d %s %.1f %d %.2f%n", r, side, files.size() / s, files.size(), s);
                }
            }
            return;
        }
        if (mode.equals("corrupt")) {
            java.util.Random rnd = new java.util.Random(1);
            int trials = Math.min(100, files.size());
            int refusedOld = 0;
            int refusedNew = 0;
            for (int t = 0; t < trials; t++) {
                byte[] b = files.get(t).clone();
                int at = b.length / 4 + rnd.nextInt(b.length / 2);
                for (int i = 0; i < 16; i++) {
                    b[at + i] = (byte) rnd.nextInt(255);
                }
                try {
                    oldD.decode(b, pre.decodeTarget());
                } catch (DecodeException e) {
                    refusedOld++;
                }
                try {
                    newD.decode(b, pre.decodeTarget());
                } catch (DecodeException e) {
                    refusedNew++;
                }
            }
            System.out.printf(Locale.ROOT, "damaged inside the entropy-coded data: %d files, refused by old %d, by new %d%n",
                    trials, refusedOld, refusedNew);
            return;
        }
        if (!mode.equals("agree")) {
            throw new IllegalArgumentException("mode: throughput or agree");
        }
        int n = files.size();
        int per = pre.floatsPerImage();
        float[] inOld = new float[n * per];
        float[] inNew = new float[n * per];
        double maxPix = 0;
        double sumPix = 0;
        for (int i = 0; i < n; i++) {
            float[] po = pre.modelPixels(oldD.decode(files.get(i), pre.decodeTarget())).data();
            float[] pn = pre.modelPixels(newD.decode(files.get(i), pre.decodeTarget())).data();
            for (int j = 0; j < per; j++) {
                double d = Math.abs(po[j] - pn[j]);
                maxPix = Math.max(maxPix, d);
                sumPix += d;
            }
            pre.apply(oldD.decode(files.get(i), pre.decodeTarget()), inOld, i * per);
            pre.apply(newD.decode(files.get(i), pre.decodeTarget()), inNew, i * per);
        }
        System.out.printf(Locale.ROOT, "images %d  model pixels (0..255) old vs new: max |diff| %.2f, mean |diff| %.4f%n",
                n, maxPix, sumPix / ((double) n * per));
        List<String> names = new ArrayList<>(List.of("old", "new"));
        List<float[]> inputs = new ArrayList<>(List.of(inOld, inNew));
        for (int i = 3; i < a.length; i++) {
            String[] kv = a[i].split("=", 2);
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(Files.readAllBytes(Path.of(kv[1]))).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            float[] x = new float[bb.remaining() / 4];
            bb.asFloatBuffer().get(x);
            if (x.length != n * per) {
                throw new IllegalArgumentException(kv[1] + " holds " + x.length + " floats, not " + n + " x " + per);
            }
            names.add(kv[0]);
            inputs.add(x);
        }
        List<float[][]> fc7 = new ArrayList<>();
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), false); ModelForward f = m.newForward()) {
            for (float[] in : inputs) {
                fc7.add(features(f, spec, in, n, per));
            }
        }
        for (int x = 0; x < names.size(); x++) {
            for (int y = x + 1; y < names.size(); y++) {
                compare(names.get(x), names.get(y), fc7.get(x), fc7.get(y));
            }
        }
    }

    static float[][] features(ModelForward f, ModelSpec spec, float[] in, int n, int per) {
        float[][] out = new float[n][];
        int batch = 32;
        for (int from = 0; from < n; from += batch) {
            int k = Math.min(batch, n - from);
            float[] x = new float[k * per];
            System.arraycopy(in, from * per, x, 0, k * per);
            float[][] v = f.run(x, k, List.of(spec.featuresTap()), List.of()).values(spec.featuresTap());
            System.arraycopy(v, 0, out, from, k);
        }
        return out;
    }

    static void compare(String an, String bn, float[][] fa, float[][] fb) {
        int n = fa.length;
        double maxF = 0;
        double maxAbs = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < fa[i].length; j++) {
                maxF = Math.max(maxF, Math.abs(fa[i][j] - fb[i][j]));
                maxAbs = Math.max(maxAbs, Math.abs(fa[i][j]));
            }
        }
        int k = Math.min(10, n - 1);
        double agree = 0;
        for (int i = 0; i < n; i++) {
            int[] a1 = nearest(fa, i, k);
            int[] a2 = nearest(fb, i, k);
            int common = 0;
            for (int x : a1) {
                for (int y : a2) {
                    if (x == y) {
                        common++;
                    }
                }
            }
            agree += (double) common / k;
        }
        System.out.printf(Locale.ROOT, "fc7 %s vs %s (%d dims): max |diff| %.4g (max |fc7| %.4g, ratio %.4g), kNN-%d agreement %.4f%n",
                an, bn, fa[0].length, maxF, maxAbs, maxF / maxAbs, k, agree / n);
    }

    static int[] nearest(float[][] v, int q, int k) {
        int n = v.length;
        double[] d = new double[n];
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < v[q].length; j++) {
                double t = v[q][j] - v[i][j];
                s += t * t;
            }
            d[i] = i == q ? Double.POSITIVE_INFINITY : s;
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, (x, y) -> Double.compare(d[x], d[y]));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        return out;
    }
}
