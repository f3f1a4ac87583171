// Single-file Java program for tests/bench/photo-decode.sh: the JVM side of the decode benchmark.
//   throughput <dir> <spec> <rounds>  decode + preprocess every JPEG of <dir> (bytes read into memory
//       first) on one thread, ImageIO-only decoder ("old": full-size decode, then Resize) and the native
//       scaled decoder ("new": DCT-reduced decode, then Resize), alternating within each round (a
//       warm-up pass of each first); prints "round R old|new <images/s> <images> <seconds>".
//   agree <dir> <spec>  for every JPEG: the model input by both decoders (0..255 model pixels, before
//       normalisation) and the model's fc7 on both; prints the largest and mean |pixel diff|, max |fc7
//       diff|, max |fc7 diff| / max |fc7|, and kNN-10 agreement (L2 on fc7, the image itself excluded:
//       the mean share of each image's 10 nearest by old fc7 that are among its 10 nearest by new fc7).
// Usage: java -cp <jobs jar>:<classpath> tests/bench/PhotoDecode.java <mode> <dir> <spec> [rounds]
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
        float[][] fOld = new float[n][];
        float[][] fNew = new float[n][];
        int batch = 32;
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), false); ModelForward f = m.newForward()) {
            for (int from = 0; from < n; from += batch) {
                int k = Math.min(batch, n - from);
                float[] xo = new float[k * per];
                float[] xn = new float[k * per];
                System.arraycopy(inOld, from * per, xo, 0, k * per);
                System.arraycopy(inNew, from * per, xn, 0, k * per);
                float[][] vo = f.run(xo, k, List.of(spec.featuresTap()), List.of()).values(spec.featuresTap());
                float[][] vn = f.run(xn, k, List.of(spec.featuresTap()), List.of()).values(spec.featuresTap());
                for (int i = 0; i < k; i++) {
                    fOld[from + i] = vo[i];
                    fNew[from + i] = vn[i];
                }
            }
        }
        double maxF = 0;
        double maxAbs = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < fOld[i].length; j++) {
                maxF = Math.max(maxF, Math.abs(fOld[i][j] - fNew[i][j]));
                maxAbs = Math.max(maxAbs, Math.abs(fOld[i][j]));
            }
        }
        int k = Math.min(10, n - 1);
        double agree = 0;
        for (int i = 0; i < n; i++) {
            int[] a1 = nearest(fOld, i, k);
            int[] a2 = nearest(fNew, i, k);
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
        System.out.printf(Locale.ROOT, "images %d  model pixels (0..255): max |diff| %.2f, mean |diff| %.4f  fc7 (%d dims): max |diff| %.4g, "
                        + "max |fc7| %.4g, ratio %.4g  kNN-%d agreement %.4f%n",
                n, maxPix, sumPix / ((double) n * per), fOld[0].length, maxF, maxAbs, maxF / maxAbs, k, agree / n);
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
