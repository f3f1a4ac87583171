package io.cnnlens.features;

import io.cnnlens.image.ContentHash;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.ScaledPixels;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;
import io.cnnlens.pipeline.DecodeAhead;

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
 * Lazy: holds at most one batch and the decode window. With decode threads, images are read,
 * decoded and preprocessed on them while the calling thread runs the network on the batch before
 * ({@link DecodeAhead}); the decoder and preprocessor must then be thread-safe (they are stateless).
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
    private final int decodeThreads;
    private final int decodeQueue;

    public FeatureExtractor(ModelForward forward, ModelSpec spec, ImageDecoder decoder, int batchSize, String convTap) {
        this(forward, spec, decoder, batchSize, convTap, 0, 0);
    }

    /**
     * @param decodeThreads threads that read, decode and preprocess images while the calling
     *                      thread runs the network ({@link DecodeAhead}); 0 = all on the calling thread
     * @param decodeQueue   batches decoded ahead of the forward; 0 = no pipeline (decode on the calling thread)
     */
    public FeatureExtractor(ModelForward forward, ModelSpec spec, ImageDecoder decoder, int batchSize, String convTap,
                            int decodeThreads, int decodeQueue) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive");
        }
        if (decodeThreads < 0 || decodeQueue < 0) {
            throw new IllegalArgumentException("decode threads and queue depth must be 0 or positive");
        }
        this.forward = forward;
        this.spec = spec;
        this.decoder = decoder;
        this.preprocessor = new Preprocessor(spec);
        this.batchSize = batchSize;
        this.convTap = convTap;
        this.taps = List.of(spec.featuresTap(), spec.logitsTap());
        this.spatialMax = convTap == null ? List.of() : List.of(convTap);
        this.decodeThreads = decodeThreads;
        this.decodeQueue = decodeQueue;
    }

    /**
     * One result per input, in input order, lazily. Close it when done early (or in the task's
     * completion listener) so its decode threads stop; it closes itself when the inputs run out.
     */
    public Extraction extract(Iterator<ImageInput> inputs) {
        long window = (long) decodeQueue * batchSize;
        DecodeAhead<ImageInput, Decoded> decoded = new DecodeAhead<>(inputs, this::decode, decodeThreads,
                (int) Math.min(Integer.MAX_VALUE, window), "cnnlens-decode");
        return new Extraction(decoded);
    }

    /** The results of {@link #extract}: an iterator that holds at most the decode window and one batch. */
    public final class Extraction implements Iterator<ExtractResult>, AutoCloseable {
        private final DecodeAhead<ImageInput, Decoded> decoded;
        private final ArrayDeque<ExtractResult> ready = new ArrayDeque<>();

        private Extraction(DecodeAhead<ImageInput, Decoded> decoded) {
            this.decoded = decoded;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && decoded.hasNext()) {
                ready.addAll(nextBatch(decoded));
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

        /** The decode threads alive now. */
        public int liveDecodeThreads() {
            return decoded.liveThreads();
        }

        @Override
        public void close() {
            decoded.close();
        }
    }

    /** A decoded, preprocessed image waiting for its batch. */
    private record Decoded(ImageInput input, String imageId, int width, int height, float[] pixels) {
    }

    /** Read, decode, preprocess: runs on a decode thread. */
    private Decoded decode(ImageInput in) throws DecodeException {
        byte[] bytes = in.bytes().read();
        // decoded at the size the model needs (a DCT-reduced JPEG decode where that covers the resize;
        // docs/decode.md); width and height stay the full upright picture's
        ScaledPixels p = decoder.decode(bytes, preprocessor.decodeTarget());
        float[] x = new float[preprocessor.floatsPerImage()];
        try {
            preprocessor.apply(p, x, 0);
        } catch (RuntimeException e) {
            throw new DecodeException("preprocess", String.valueOf(e.getMessage()), e);
        }
        return new Decoded(in, ContentHash.of(bytes), p.fullWidth(), p.fullHeight(), x);
    }

    private List<ExtractResult> nextBatch(Iterator<DecodeAhead.Decoded<ImageInput, Decoded>> inputs) {
        List<ExtractResult> out = new ArrayList<>();
        List<Decoded> decoded = new ArrayList<>(batchSize);
        int per = preprocessor.floatsPerImage();
        float[] batch = null;
        while (decoded.size() < batchSize && inputs.hasNext()) {
            DecodeAhead.Decoded<ImageInput, Decoded> d = inputs.next();
            if (d.ok()) {
                if (batch == null) {
                    batch = new float[batchSize * per];
                }
                System.arraycopy(d.value().pixels(), 0, batch, decoded.size() * per, per);
                decoded.add(d.value());
            } else {
                out.add(ErrorRow.of(d.input().path(), d.failure(), "read"));
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
