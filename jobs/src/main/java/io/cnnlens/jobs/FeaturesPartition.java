package io.cnnlens.jobs;

import io.cnnlens.features.FeatureExtractor;
import io.cnnlens.features.ImageInput;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;

import java.util.Iterator;

/**
 * Executor side of the features job: rows of (path, label, length, content) in, one combined
 * feature-or-error row per input out. The model comes from {@link ExecutorRuntime}; this task's
 * forward context is closed when the task completes, whether it succeeded or not. Bytes are read
 * here (from {@code content} when the input table carries them, else from the file system), after
 * checking the size against the byte limit.
 */
final class FeaturesPartition implements FlatMapFunction<Iterator<Row>, Row> {

    private static final long serialVersionUID = 1L;

    private final String modelLocation;
    private final HadoopConf hadoop;
    private final int batchSize;
    private final long maxPixels;
    private final long maxBytes;
    private final String convTap;

    FeaturesPartition(String modelLocation, HadoopConf hadoop, int batchSize, long maxPixels, long maxBytes,
                      String convTap) {
        this.modelLocation = modelLocation;
        this.hadoop = hadoop;
        this.batchSize = batchSize;
        this.maxPixels = maxPixels;
        this.maxBytes = maxBytes;
        this.convTap = convTap;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        LoadedModel model = ExecutorRuntime.model(modelLocation, hadoop.get(), false);
        ModelForward forward = model.newForward();
        TaskContext tc = TaskContext.get();
        if (tc != null) {
            tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> forward.close());
        }
        int batch = batchSize > 0 ? batchSize : (model.device().isGpu() ? 256 : 64);
        String conv = convTap == null ? model.spec().convTap() : convTap;
        FeatureExtractor extractor = new FeatureExtractor(forward, model.spec(), new ImageDecoder(maxPixels),
                batch, conv.isEmpty() ? null : conv);
        Iterator<ImageInput> inputs = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public ImageInput next() {
                Row r = rows.next();
                String path = r.getString(0);
                String label = r.isNullAt(1) ? null : r.getString(1);
                long length = r.isNullAt(2) ? -1 : r.getLong(2);
                byte[] content = r.isNullAt(3) ? null : (byte[]) r.get(3);
                return new ImageInput(path, label, () -> bytes(path, length, content));
            }
        };
        String modelName = model.spec().name();
        Iterator<io.cnnlens.features.ExtractResult> results = extractor.extract(inputs);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return results.hasNext();
            }

            @Override
            public Row next() {
                return FeatureTables.toRow(results.next(), modelName, conv);
            }
        };
    }

    private byte[] bytes(String path, long length, byte[] content) throws DecodeException {
        return ImageBytes.read(path, length, content, maxBytes, hadoop.get());
    }
}
