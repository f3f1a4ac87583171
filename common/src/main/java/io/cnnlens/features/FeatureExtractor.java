package io.cnnlens.features;

import io.cnnlens.image.ContentHash;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Images in, one {@link ExtractResult} per image out: reads, decodes and preprocesses each image,
 * runs them through the network in batches, and turns the taps into a {@link FeatureRow}. Any
 * failure for one image becomes an {@link ErrorRow} for that image alone; if a whole batch fails
 * in the network, its images are retried one by one so a single bad one cannot take others down.
 * Lazy: holds at most one batch.
 */
public final class FeatureExtractor {

    private final ModelForward forward;
    private final ModelSpec spec;
    private final ImageDecoder decoder;
    private final Preprocessor preprocessor;
    private final int batchSize;
    private final String convTap;
    private final List<String> taps;
    private final List<String> spatialMax;

    public FeatureExtractor(ModelForward forward, ModelSpec spec, ImageDecoder decoder, int batchSize, String convTap) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive");
        }
        this.forward = forward;
        this.spec = spec;
        this.decoder = decoder;
        this.preprocessor = new Preprocessor(spec);
        this.batchSize = batchSize;
        this.convTap = convTap;
        this.taps = List.of(spec.featuresTap(), spec.logitsTap());
        this.spatialMax = convTap == null ? List.of() : List.of(convTap);
    }

    public Iterator<ExtractResult> extract(Iterator<ImageInput> inputs) {
        return new Iterator<>() {
            private final ArrayDeque<ExtractResult> ready = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && inputs.hasNext()) {
                    ready.addAll(nextBatch(inputs));
                }
                return !ready.isEmpty();
            }

            @Override
            public ExtractResult next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    /** A decoded image waiting for its batch. */
    private record Decoded(ImageInput input, String imageId, int width, int height) {
    }

    private List<ExtractResult> nextBatch(Iterator<ImageInput> inputs) {
        List<ExtractResult> out = new ArrayList<>();
        List<Decoded> decoded = new ArrayList<>(batchSize);
        int per = preprocessor.floatsPerImage();
        float[] batch = new float[batchSize * per];
        while (decoded.size() < batchSize && inputs.hasNext()) {
            ImageInput in = inputs.next();
            try {
                byte[] bytes = in.bytes().read();
                Pixels p = decoder.decode(bytes);
                try {
                    preprocessor.apply(p, batch, decoded.size() * per);
                } catch (RuntimeException e) {
                    throw new DecodeException("preprocess", String.valueOf(e.getMessage()), e);
                }
                decoded.add(new Decoded(in, ContentHash.of(bytes), p.width(), p.height()));
            } catch (DecodeException e) {
                out.add(new ErrorRow(in.path(), e.stage(), e.getMessage()));
            } catch (RuntimeException e) {
                out.add(new ErrorRow(in.path(), "read", e.getClass().getSimpleName() + ": " + e.getMessage()));
            }
        }
        if (!decoded.isEmpty()) {
            forwardBatch(decoded, batch, 0, decoded.size(), out);
        }
        return out;
    }

    private void forwardBatch(List<Decoded> decoded, float[] batch, int from, int n, List<ExtractResult> out) {
        ModelForward.Outputs o;
        float[] input = batch;
        int per = preprocessor.floatsPerImage();
        if (from > 0) {
            input = new float[n * per];
            System.arraycopy(batch, from * per, input, 0, n * per);
        }
        try {
            o = forward.run(input, n, taps, spatialMax);
        } catch (IllegalArgumentException e) {
            throw e; // a wrong tap name is a configuration error, not an image's fault
        } catch (RuntimeException e) {
            if (n == 1) {
                Decoded d = decoded.get(from);
                out.add(new ErrorRow(d.input().path(), "forward", e.getClass().getSimpleName() + ": " + e.getMessage()));
                return;
            }
            for (int i = 0; i < n; i++) {
                forwardBatch(decoded, batch, from + i, 1, out);
            }
            return;
        }
        float[][] features = o.values(spec.featuresTap());
        float[][] logits = o.values(spec.logitsTap());
        float[][] conv = convTap == null ? null : o.spatialMax(convTap);
        for (int i = 0; i < n; i++) {
            Decoded d = decoded.get(from + i);
            out.add(row(d, features[i], logits[i], conv == null ? null : conv[i]));
        }
    }

    private FeatureRow row(Decoded d, float[] features, float[] logits, float[] convMax) {
        if (logits.length != spec.classes()) {
            throw new IllegalArgumentException("model " + spec.name() + " gives " + logits.length
                    + " logits but its spec lists " + spec.classes() + " labels");
        }
        float[] prob = Predictions.softmax(logits);
        int[] top = Predictions.topK(prob, 5);
        String[] classes = new String[top.length];
        float[] probs = new float[top.length];
        for (int k = 0; k < top.length; k++) {
            classes[k] = spec.labels().get(top[k]);
            probs[k] = prob[top[k]];
        }
        return new FeatureRow(d.imageId(), d.input().path(), d.input().label(), d.width(), d.height(),
                classes[0], top[0], classes, probs, features, logits, convMax);
    }
}
