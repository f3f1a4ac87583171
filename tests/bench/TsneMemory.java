// Single-file Java program for tests/bench/tsne-memory.sh: the driver-side memory and time of
// the t-SNE fit at a given size, on synthetic affinities (each point's k neighbours drawn at
// random, uniform conditionals: the kNN step does not change what the driver holds).
// Measures the heap in use (after a full GC) with the n×k rows held as the job holds them,
// after symmetrising, and after the first iterations (tree built); and seconds per iteration.
// Usage: java -cp <common jar> tests/bench/TsneMemory.java <points> <k> <iterations>
import io.cnnlens.embedding.BarnesHutTsne;
import io.cnnlens.embedding.SparseAffinities;

import java.util.Random;

public class TsneMemory {
    static long used() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    public static void main(String[] a) {
        int n = Integer.parseInt(a[0]);
        int k = Integer.parseInt(a[1]);
        int iterations = Integer.parseInt(a[2]);
        long base = used();
        Random rnd = new Random(1);
        // the gathered rows, as the job's collect() holds them (one object with two arrays per point)
        Object[] rows = new Object[n];
        for (int i = 0; i < n; i++) {
            int[] nb = new int[k];
            float[] p = new float[k];
            for (int j = 0; j < k; j++) {
                int c = rnd.nextInt(n - 1);
                nb[j] = c >= i ? c + 1 : c;
                p[j] = 1f / k;
            }
            rows[i] = new Object[] {nb, p};
        }
        long gathered = used() - base;
        int[] nbr = new int[n * k];
        float[] p = new float[n * k];
        for (int i = 0; i < n; i++) {
            Object[] r = (Object[]) rows[i];
            System.arraycopy(r[0], 0, nbr, i * k, k);
            System.arraycopy(r[1], 0, p, i * k, k);
        }
        long both = used() - base;
        rows = null;
        long t0 = System.nanoTime();
        SparseAffinities.Csr csr = SparseAffinities.symmetrise(n, k, nbr, p);
        double symSeconds = (System.nanoTime() - t0) / 1e9;
        nbr = null;
        p = null;
        long matrix = used() - base;
        double[] start = new double[2 * n];
        for (int i = 0; i < 2 * n; i++) {
            start[i] = rnd.nextGaussian();
        }
        long[] peakFit = new long[1];
        BarnesHutTsne.Result r = BarnesHutTsne.fit(csr, BarnesHutTsne.scaledStart(start),
                new BarnesHutTsne.Options(iterations, Math.min(250, iterations), 12, 0, 0.5, 0), it -> {
                    if (it == 1) {
                        peakFit[0] = used() - base;
                    }
                });
        System.out.printf("points %d k %d: gathered rows %.0f B/point, rows + flat arrays %.0f B/point, symmetrised P %.0f B/point "
                        + "(%d non-zeros, %.1f s), during the fit %.0f B/point; fit %.3f s/iteration on %d threads (%d iterations); "
                        + "max heap %.1f GB%n",
                n, k, gathered / (double) n, both / (double) n, matrix / (double) n, csr.entries(), symSeconds,
                peakFit[0] / (double) n, r.seconds() / iterations, r.threads(), iterations, Runtime.getRuntime().maxMemory() / 1e9);
    }
}
