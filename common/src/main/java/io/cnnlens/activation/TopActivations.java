package io.cnnlens.activation;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The top-K activations of each channel of one layer, over any number of images: a bounded
 * min-heap per channel, so memory is channels × K however many images are offered, and two
 * instances (e.g. from two partitions) merge into the top-K of their union. Each image offers
 * one hit per channel: its spatial maximum and where it is. Ties in activation rank by image id,
 * so the result does not depend on the order of offers.
 */
public final class TopActivations implements Serializable {

    private static final long serialVersionUID = 1L;

    /** One activation: its value, the image and the unit position (row, column) in the layer. */
    public record Hit(float activation, String imageId, String path, int y, int x) implements Serializable {
    }

    /** Best first: higher activation, then smaller image id. */
    public static final Comparator<Hit> BEST_FIRST = new BestFirst(false);

    /** Serialisable (the heaps travel between executors and the driver). */
    private record BestFirst(boolean worstFirst) implements Comparator<Hit>, Serializable {
        @Override
        public int compare(Hit a, Hit b) {
            int c = Float.compare(b.activation(), a.activation());
            if (c == 0) {
                c = a.imageId().compareTo(b.imageId());
            }
            return worstFirst ? -c : c;
        }
    }

    private final int k;
    private final int[] channels;
    private final ArrayList<PriorityQueue<Hit>> heaps;

    /** @param channels the channel numbers kept, in output order */
    public TopActivations(int[] channels, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("K must be at least 1, not " + k);
        }
        this.k = k;
        this.channels = channels.clone();
        this.heaps = new ArrayList<>(channels.length);
        for (int i = 0; i < channels.length; i++) {
            heaps.add(new PriorityQueue<>(k + 1, new BestFirst(true)));
        }
    }

    public int[] channels() {
        return channels.clone();
    }

    public int k() {
        return k;
    }

    /**
     * Offers one image's activation map of the layer ({@code C×H×W}, CHW order): for every kept
     * channel, its maximum over positions (first position on ties).
     */
    public void offerMap(float[] map, int offset, int height, int width, String imageId, String path) {
        int plane = height * width;
        for (int i = 0; i < channels.length; i++) {
            int base = offset + channels[i] * plane;
            int best = 0;
            float max = map[base];
            for (int j = 1; j < plane; j++) {
                if (map[base + j] > max) {
                    max = map[base + j];
                    best = j;
                }
            }
            offer(i, new Hit(max, imageId, path, best / width, best % width));
        }
    }

    /** Offers a hit to the {@code index}-th kept channel. */
    public void offer(int index, Hit hit) {
        PriorityQueue<Hit> h = heaps.get(index);
        if (h.size() < k) {
            h.add(hit);
        } else if (BEST_FIRST.compare(hit, h.peek()) < 0) {
            h.poll();
            h.add(hit);
        }
    }

    /** Adds everything in {@code other} (same channels and K) to this; returns this. */
    public TopActivations merge(TopActivations other) {
        if (other.k != k || !java.util.Arrays.equals(other.channels, channels)) {
            throw new IllegalArgumentException("cannot merge top activations of different channels or K");
        }
        for (int i = 0; i < channels.length; i++) {
            for (Hit hit : other.heaps.get(i)) {
                offer(i, hit);
            }
        }
        return this;
    }

    /** The kept hits of the {@code index}-th channel, best first. */
    public List<Hit> sorted(int index) {
        List<Hit> out = new ArrayList<>(heaps.get(index));
        out.sort(BEST_FIRST);
        return out;
    }
}
