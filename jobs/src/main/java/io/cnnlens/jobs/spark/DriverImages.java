package io.cnnlens.jobs.spark;

import io.cnnlens.features.ErrorRow;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.jobs.SharedOptions.ImageInput;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.Iterator;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.hash;

/**
 * The driver side of a job that draws a few images one by one (activations, invert): the chosen
 * inputs, streamed to the driver, and each one decoded under the input's limits, its failure an
 * error row for the job's {@link ErrorChannel} writer.
 */
public final class DriverImages {

    private DriverImages() {
    }

    /**
     * A fixed sample of {@code n} inputs ({@link ImageSource#sample}), or for {@code n = 0} every
     * input in the same order, streamed a partition at a time (the driver never holds them all).
     */
    public static Iterator<Row> chosen(Dataset<Row> inputs, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("sample must be 0 (all) or positive, not " + n);
        }
        return n > 0 ? ImageSource.sample(inputs, n).collectAsList().iterator()
                : inputs.orderBy(hash(col("key")), col("key"), col("path")).toLocalIterator();
    }

    /** The input's pixels, or null after adding its error row (read or decode stage, as the features job gives it). */
    public static Pixels decode(InputRow in, ImageInput limits, ImageDecoder decoder, Configuration conf, ErrorStash.Writer errors) {
        try {
            return decoder.decode(in.bytes(limits.maxBytes(), conf));
        } catch (DecodeException e) {
            errors.add(new ErrorRow(in.path(), e.stage(), e.getMessage()));
        } catch (RuntimeException e) {
            errors.add(new ErrorRow(in.path(), "decode", e.getClass().getSimpleName() + ": " + e.getMessage()));
        }
        return null;
    }
}
