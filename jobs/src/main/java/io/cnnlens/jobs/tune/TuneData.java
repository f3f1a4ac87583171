package io.cnnlens.jobs.tune;

import io.cnnlens.tuning.FamilyTraining;
import io.cnnlens.tuning.LabelledImages;
import io.cnnlens.tuning.Splits;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * The splits every trial uses, computed the same way (seeded, stratified) on the driver and on each executor and cached
 * per JVM: the validation split held out of the training data, the trials' training sample from the rest, and the test
 * split (the data's own, or held out of the training data when it has none) that only the final model sees.
 */
public record TuneData(LabelledImages train, LabelledImages val, LabelledImages test, boolean testHeldOut, FamilyTraining.Settings settings,
                       int trainAll) {

    private static final Map<String, TuneData> CACHE = new ConcurrentHashMap<>();

    static TuneData of(TuneOptions o, int threads) {
        String key = o.data() + "|" + o.trainSize() + "|" + o.valSize() + "|" + o.seed();
        TuneData d = CACHE.computeIfAbsent(key, k -> load(o));
        return new TuneData(d.train, d.val, d.test, d.testHeldOut, new FamilyTraining.Settings(d.settings.mean(), d.settings.std(),
                o.seed(), threads), d.trainAll);
    }

    private static TuneData load(TuneOptions o) {
        try {
            Path dir = Path.of(o.data());
            LabelledImages all = LabelledImages.train(dir, 50_000_000L);
            java.util.Optional<LabelledImages> ownTest = LabelledImages.test(dir, 50_000_000L);
            int[] index = IntStream.range(0, all.size()).toArray();
            boolean heldOut = ownTest.isEmpty();
            LabelledImages test;
            if (heldOut) {
                Splits.Pair p = Splits.stratified(all.labels(), Math.max(1, all.size() / 6), o.seed() + 2);
                test = all.subset(p.second());
                index = p.first();
            } else {
                test = ownTest.get();
            }
            LabelledImages pool = all.subset(index);
            if (o.valSize() >= pool.size()) {
                throw new IllegalArgumentException("--val-size " + o.valSize() + " leaves no training images of " + pool.size());
            }
            Splits.Pair tv = Splits.stratified(pool.labels(), o.valSize(), o.seed());
            int[] train = Splits.sample(tv.first(), pool.labels(), o.trainSize(), o.seed() + 1);
            LabelledImages tr = pool.subset(train);
            float[] ms = tr.meanStd();
            return new TuneData(tr, pool.subset(tv.second()), test, heldOut, new FamilyTraining.Settings(ms[0], ms[1], o.seed(), 1),
                    tv.first().length);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read training data " + o.data() + ": " + e.getMessage(), e);
        }
    }
}
