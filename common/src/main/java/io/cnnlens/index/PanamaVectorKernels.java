package io.cnnlens.index;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorKernels} on the JDK's vector API at the platform's preferred width. Loaded by
 * reflection only when {@code jdk.incubator.vector} is in the boot layer, so that a JVM without
 * the module never links this class.
 */
final class PanamaVectorKernels extends VectorKernels {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    @Override
    public String name() {
        return "panama (" + SPECIES.length() + " floats)";
    }

    @Override
    public float squaredDistance(float[] a, int aOff, float[] b, int bOff, int d) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0;
        int bound = SPECIES.loopBound(d);
        for (; i < bound; i += SPECIES.length()) {
            FloatVector diff = FloatVector.fromArray(SPECIES, a, aOff + i).sub(FloatVector.fromArray(SPECIES, b, bOff + i));
            acc = diff.fma(diff, acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < d; i++) {
            float e = a[aOff + i] - b[bOff + i];
            s += e * e;
        }
        return s;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int d) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0;
        int bound = SPECIES.loopBound(d);
        for (; i < bound; i += SPECIES.length()) {
            acc = FloatVector.fromArray(SPECIES, a, aOff + i).fma(FloatVector.fromArray(SPECIES, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < d; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }
}
