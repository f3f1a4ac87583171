package io.cnnlens.jobs;

import io.cnnlens.features.FeatureExtractor;
import io.cnnlens.features.ImageInput;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;

import java.io.IOException;
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
        if (content != null) {
            checkSize(content.length);
            return content;
        }
        checkSize(length);
        Path p = new Path(path);
        try {
            if ("file".equals(p.toUri().getScheme())) {
                // local files: plain NIO (Hadoop's local file system would also look for a .crc file)
                java.nio.file.Path local = java.nio.file.Path.of(p.toUri());
                checkSize(java.nio.file.Files.size(local));
                return java.nio.file.Files.readAllBytes(local);
            }
            FileSystem fs = p.getFileSystem(hadoop.get());
            long len = length >= 0 ? length : fs.getFileStatus(p).getLen();
            checkSize(len);
            byte[] b = new byte[(int) len];
            try (FSDataInputStream in = fs.open(p)) {
                in.readFully(0, b);
            }
            return b;
        } catch (IOException e) {
            throw new DecodeException("read", "cannot read: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private void checkSize(long bytes) throws DecodeException {
        if (bytes > maxBytes) {
            throw new DecodeException("too-large", "file is " + bytes + " bytes, over the limit of " + maxBytes);
        }
    }
}
