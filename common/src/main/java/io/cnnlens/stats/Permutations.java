package io.cnnlens.stats;

import java.util.SplittableRandom;

/** Seeded random orders. */
public final class Permutations {

    private Permutations() {
    }

    /** A uniformly random permutation of 0..n−1 (Fisher–Yates), the same for the same seed. */
    public static int[] random(int n, long seed) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) {
            o[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
        return o;
    }
}
