package io.cnnlens.image;

/** An input that could not become pixels; {@link #stage()} says where it failed. */
public final class DecodeException extends Exception {

    private final String stage;

    public DecodeException(String stage, String reason) {
        super(reason);
        this.stage = stage;
    }

    public DecodeException(String stage, String reason, Throwable cause) {
        super(reason, cause);
        this.stage = stage;
    }

    /** One of read, decode, too-large, preprocess. */
    public String stage() {
        return stage;
    }
}
