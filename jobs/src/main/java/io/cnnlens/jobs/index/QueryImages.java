package io.cnnlens.jobs.index;

import io.cnnlens.features.ErrorRow;
import io.cnnlens.features.ExtractResult;
import io.cnnlens.features.FeatureExtractor;
import io.cnnlens.features.FeatureRow;
import io.cnnlens.features.ImageInput;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import org.apache.hadoop.conf.Configuration;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Query images turned into the index's vectors the way the features job does it: the index's
 * model (the manifest's), the same decoder limits, preprocessing and forward pass
 * ({@link FeatureExtractor}), and the vector column the index was built over. Thread-safe: each
 * call makes its own forward context.
 */
public final class QueryImages {

    /** An image's vector, or why it has none (the extractor's stage and reason). */
    public record Result(String path, float[] vector, String stage, String reason) {
        public boolean ok() {
            return vector != null;
        }
    }

    private final LoadedModel model;
    private final String column;
    private final long maxPixels;

    public QueryImages(String modelLocation, String column, long maxPixels, Configuration conf) {
        if (!List.of("fc7", "logits", "conv_max").contains(column)) {
            throw new IllegalArgumentException("query images need the index's column to be fc7, logits or conv_max, not " + column);
        }
        this.model = ExecutorRuntime.model(modelLocation, conf, false);
        this.column = column;
        this.maxPixels = maxPixels;
    }

    public List<Result> vectors(List<ImageInput> inputs) {
        List<Result> out = new ArrayList<>();
        try (ModelForward forward = model.newForward()) {
            String conv = model.spec().convTap();
            FeatureExtractor fx = new FeatureExtractor(forward, model.spec(), new ImageDecoder(maxPixels), Math.max(1, Math.min(64, inputs.size())),
                    conv == null || conv.isEmpty() ? null : conv);
            Iterator<ExtractResult> it = fx.extract(inputs.iterator());
            while (it.hasNext()) {
                ExtractResult r = it.next();
                if (r instanceof FeatureRow f) {
                    float[] v = switch (column) {
                        case "fc7" -> f.features();
                        case "logits" -> f.logits();
                        default -> f.convMax();
                    };
                    out.add(new Result(f.path(), v, null, null));
                } else {
                    ErrorRow e = (ErrorRow) r;
                    out.add(new Result(e.path(), null, e.stage(), e.reason()));
                }
            }
        }
        return out;
    }
}
