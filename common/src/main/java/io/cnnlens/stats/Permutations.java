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

    /**
     * A seeded 64-bit mix of a key (SplitMix64's finaliser over {@code seed·φ + key}): ordering
     * items by it gives a seeded pseudo-random order that does not depend on how the items are
     * partitioned, so a sample chosen by it is the same on any cluster layout.
     */
    public static long mix(long seed, long key) {
        long z = seed * 0x9E3779B97F4A7C15L + key;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
