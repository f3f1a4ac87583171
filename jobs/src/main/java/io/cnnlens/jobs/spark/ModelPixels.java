package io.cnnlens.jobs.spark;

import io.cnnlens.image.ContentHash;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.ModelSpec;
import org.apache.spark.sql.Row;

import java.io.Serializable;

/**
 * One input image as the attacks see it: model channels and size, pixel values 0..255; or why it
 * could not be read. Built on executors from ImageSource rows (path, label, length, content).
 */
public record ModelPixels(String path, String label, String imageId, float[] pixels, String stage, String reason) implements Serializable {

    public boolean ok() {
        return pixels != null;
    }

    public static ModelPixels read(Row r, ModelSpec spec, ImageDecoder decoder, HadoopConf hadoop) {
        String path = r.getString(0);
        String label = r.isNullAt(1) ? null : r.getString(1);
        try {
            byte[] bytes = ImageBytes.read(path, r.isNullAt(2) ? -1 : r.getLong(2), r.isNullAt(3) ? null : (byte[]) r.get(3),
                    ImageBytes.MAX_BYTES, hadoop.get());
            return new ModelPixels(path, label, ContentHash.of(bytes), new Preprocessor(spec).modelPixels(decoder.decode(bytes)).data(),
                    null, null);
        } catch (DecodeException e) {
            return new ModelPixels(path, label, null, null, e.stage(), e.getMessage());
        } catch (RuntimeException e) {
            return new ModelPixels(path, label, null, null, "decode", e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
