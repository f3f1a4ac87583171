package io.cnnlens.jobs.features;

import io.cnnlens.jobs.spark.ErrorStash;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.InputRow;
import io.cnnlens.jobs.spark.TaskResources;

import io.cnnlens.features.ErrorRow;
import io.cnnlens.features.ExtractResult;
import io.cnnlens.features.FeatureExtractor;
import io.cnnlens.features.FeatureRow;
import io.cnnlens.features.ImageInput;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Executor side of the features job: rows of (path, label, length, content) in, feature rows
 * out; each input that fails becomes an error row in the partition's {@link ErrorStash} file
 * instead. Both kinds are counted in accumulators, which Spark applies once per partition of the
 * job that writes the features table (this RDD's only consumer). The model comes from
 * {@link ExecutorRuntime}; this task's forward context is closed when the task completes,
 * whether it succeeded or not. Images are read, decoded and preprocessed on the task's decode
 * threads while the task thread runs the network ({@link TaskResources.Plan}: batch size, decode
 * threads and queue from the options, else the defaults for the task's device). Bytes are read here (from {@code content} when the input table
 * carries them, else from the file system), after checking the size against the byte limit.
 */
public final class FeaturesPartition implements FlatMapFunction<Iterator<Row>, Row> {

    private static final long serialVersionUID = 1L;

    /** What the partition function needs besides the model. */
    record Settings(String modelLocation, HadoopConf hadoop, int batchSize, int decodeThreads, int decodeQueue,
                    long maxPixels, long maxBytes,
                    String convTap, String errorStash, LongAccumulator featureRows,
                    LongAccumulator errorRows, LongAccumulator progress) implements java.io.Serializable {
    }

    private final Settings s;

    FeaturesPartition(Settings s) {
        this.s = s;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        LoadedModel model = ExecutorRuntime.model(s.modelLocation(), s.hadoop().get(), false);
        TaskResources.Plan plan = ExecutorRuntime.plan(s.batchSize(), s.decodeThreads(), s.decodeQueue());
        ModelForward forward = model.newForward();
        TaskContext tc = TaskContext.get();
        ErrorStash.Writer stash = new ErrorStash.Writer(s.errorStash(), s.hadoop().get(),
                tc == null ? 0 : tc.partitionId(), tc == null ? 0 : tc.taskAttemptId());
        String conv = s.convTap() == null ? model.spec().convTap() : s.convTap();
        FeatureExtractor extractor = new FeatureExtractor(forward, model.spec(), new ImageDecoder(s.maxPixels()),
                plan.batchSize(), conv.isEmpty() ? null : conv, plan.decodeThreads(), plan.decodeQueue());
        Iterator<ImageInput> inputs = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public ImageInput next() {
                // an input the listing refused (special file, dangling link, ...) is an error row, never opened
                InputRow in = InputRow.of(rows.next());
                return new ImageInput(in.path(), in.label(), () -> in.bytes(s.maxBytes(), s.hadoop().get()));
            }
        };
        String modelName = model.spec().name();
        FeatureExtractor.Extraction results = extractor.extract(inputs);
        if (tc != null) {
            // decode threads first (they may still be reading), then the forward context and the stash
            tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> {
                results.close();
                forward.close();
                stash.close();
            });
        }
        return new Iterator<>() {
            private Row next;
            private boolean published;

            @Override
            public boolean hasNext() {
                while (next == null && results.hasNext()) {
                    ExtractResult r = results.next();
                    if (r instanceof FeatureRow f) {
                        next = FeaturesSchema.toRow(f, modelName, conv);
                        s.featureRows().add(1);
                    } else {
                        stash.add((ErrorRow) r);
                        s.errorRows().add(1);
                    }
                    s.progress().add(1);
                }
                if (next == null && !published) {
                    stash.publish();
                    published = true;
                }
                return next != null;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Row r = next;
                next = null;
                return r;
            }
        };
    }
}
