package io.cnnlens.features;

import io.cnnlens.image.DecodeException;

/** An input that gave no features, with the stage that failed and a reason a person can act on. */
public record ErrorRow(String path, String stage, String reason) implements ExtractResult {

    /**
     * {@code failure} of the input at {@code path}: a {@link DecodeException}'s own stage and
     * reason, any other exception as {@code otherStage} with its class and message.
     */
    public static ErrorRow of(String path, Exception failure, String otherStage) {
        if (failure instanceof DecodeException e) {
            return new ErrorRow(path, e.stage(), e.getMessage());
        }
        return new ErrorRow(path, otherStage, failure.getClass().getSimpleName() + ": " + failure.getMessage());
    }
}
