package io.cnnlens.tuning;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Successive halving (Li et al. 2018's ASHA without the asynchrony; docs/tuning.md): every trial
 * trains {@code minEpochs}, the best 1/η by validation accuracy go on to η × that many epochs, and
 * so on up to {@code maxEpochs}. Under Spark each rung is one stage of tasks, so a rung's
 * promotion waits for that rung's trials (synchronous) but needs no shared state between tasks.
 * A diverged trial ranks below every finished one.
 */
public final class SuccessiveHalving {

    /** A trial's score at a rung. */
    public record Scored(int trial, double score, boolean diverged) {
    }

    private SuccessiveHalving() {
    }

    /** The epoch budgets of the rungs: min, min·η, ... capped by max (which is always the last). */
    public static List<Integer> rungs(int minEpochs, int maxEpochs, int eta) {
        if (minEpochs < 1 || maxEpochs < minEpochs || eta < 2) {
            throw new IllegalArgumentException("successive halving needs 1 <= min-epochs <= max-epochs and eta >= 2");
        }
        List<Integer> out = new ArrayList<>();
        for (long e = minEpochs; e < maxEpochs; e *= eta) {
            out.add((int) e);
        }
        out.add(maxEpochs);
        return out;
    }

    /** The trials that go on: the best ⌈n/η⌉ of the non-diverged ones (at least one while any finished). */
    public static List<Integer> promote(List<Scored> rung, int eta) {
        List<Scored> alive = rung.stream().filter(s -> !s.diverged() && Double.isFinite(s.score()))
                .sorted(Comparator.comparingDouble(Scored::score).reversed().thenComparingInt(Scored::trial)).toList();
        int keep = (int) Math.ceil(rung.size() / (double) eta);
        return alive.stream().limit(keep).map(Scored::trial).sorted().toList();
    }
}
