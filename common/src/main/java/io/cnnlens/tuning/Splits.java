package io.cnnlens.tuning;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Seeded, stratified index splits: the validation split every choice is made on, and subsets for quick trials. */
public final class Splits {

    /** Two disjoint index sets: {@code first} and {@code second}. */
    public record Pair(int[] first, int[] second) {
    }

    private Splits() {
    }

    /**
     * Holds {@code heldOut} indices out of {@code labels}, the same fraction from every class
     * (seeded), and returns (rest, held out), each sorted.
     */
    public static Pair stratified(int[] labels, int heldOut, long seed) {
        if (heldOut < 1 || heldOut >= labels.length) {
            throw new IllegalArgumentException("cannot hold " + heldOut + " of " + labels.length + " images out");
        }
        int classes = Arrays.stream(labels).max().orElse(0) + 1;
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < labels.length; i++) {
            byClass.get(labels[i]).add(i);
        }
        Random rnd = new Random(seed);
        boolean[] out = new boolean[labels.length];
        int taken = 0;
        double frac = heldOut / (double) labels.length;
        for (List<Integer> members : byClass) {
            java.util.Collections.shuffle(members, rnd);
            int k = (int) Math.round(members.size() * frac);
            for (int j = 0; j < k && taken < heldOut; j++) {
                out[members.get(j)] = true;
                taken++;
            }
        }
        // rounding: top up (or not) from a seeded shuffle of the rest
        int[] order = shuffled(labels.length, rnd);
        for (int i = 0; i < order.length && taken < heldOut; i++) {
            if (!out[order[i]]) {
                out[order[i]] = true;
                taken++;
            }
        }
        int[] rest = new int[labels.length - taken];
        int[] held = new int[taken];
        int a = 0;
        int b = 0;
        for (int i = 0; i < labels.length; i++) {
            if (out[i]) {
                held[b++] = i;
            } else {
                rest[a++] = i;
            }
        }
        return new Pair(rest, held);
    }

    /** A stratified sample of {@code n} of {@code index} (all of them when n ≥ its length), sorted. */
    public static int[] sample(int[] index, int[] labels, int n, long seed) {
        if (n <= 0 || n >= index.length) {
            return index.clone();
        }
        int[] sub = new int[index.length];
        for (int i = 0; i < index.length; i++) {
            sub[i] = labels[index[i]];
        }
        int[] picked = stratified(sub, n, seed).second();
        int[] out = new int[picked.length];
        for (int i = 0; i < picked.length; i++) {
            out[i] = index[picked[i]];
        }
        return out;
    }

    static int[] shuffled(int n, Random rnd) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
