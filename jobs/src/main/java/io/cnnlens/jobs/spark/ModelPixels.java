package io.cnnlens.jobs.spark;

import java.io.Serializable;

/**
 * One decoded input image as the attacks see it: the model's channels and size, pixel values
 * 0..255 (an input that cannot be decoded is an error row instead, through {@link ErrorChannel}).
 */
public record ModelPixels(String path, String label, String imageId, float[] pixels) implements Serializable {
}
