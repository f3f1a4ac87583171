package io.cnnlens.image;

import io.cnnlens.model.ModelSpec;

/**
 * Turns decoded pixels into the model's input, by the spec's policy: colour converted to the
 * model's channel count (RGB→grey by ITU-R 601 luma, as PIL's "L"; grey→RGB by copying), resized
 * (stretch to the input size, or shorter side to {@code resize.size} then a centre crop, as
 * torchvision's Resize+CenterCrop), then scaled to 0..1 and normalised by mean/std.
 *
 * <p>{@link #decodeTarget()} tells the decoder how small a picture it may decode (a JPEG at a DCT
 * reduction); {@link #apply(ScaledPixels, float[], int)} then sizes the resize from the full
 * picture's dimensions, so the geometry (resize size, crop offsets) is the full-size decode's.
 */
public final class Preprocessor {

    private final ModelSpec spec;

    public Preprocessor(ModelSpec spec) {
        this.spec = spec;
    }

    public int floatsPerImage() {
        return spec.channels() * spec.height() * spec.width();
    }

    /**
     * The smallest upright picture this policy can start from: the resize size as shorter side
     * (centre crop), or the input size (stretch).
     */
    public DecodeTarget decodeTarget() {
        return switch (spec.resize()) {
            case STRETCH -> DecodeTarget.atLeast(spec.width(), spec.height());
            case CENTER_CROP -> DecodeTarget.shorterSide(Math.max(spec.resizeSize(), Math.max(spec.width(), spec.height())));
        };
    }

    /** Writes the model input for {@code p} into {@code out} at {@code offset}. */
    public void apply(Pixels p, float[] out, int offset) {
        apply(ScaledPixels.full(p), out, offset);
    }

    /** Writes the model input for a possibly reduced decode into {@code out} at {@code offset}. */
    public void apply(ScaledPixels p, float[] out, int offset) {
        Pixels r = modelPixels(p);
        int plane = spec.width() * spec.height();
        float[] d = r.data();
        for (int ch = 0; ch < spec.channels(); ch++) {
            float mean = spec.mean()[ch];
            float invStd = 1f / spec.std()[ch];
            int base = ch * plane;
            for (int i = 0; i < plane; i++) {
                out[offset + base + i] = (d[base + i] / 255f - mean) * invStd;
            }
        }
    }

    /**
     * The image as the model sees it, before normalisation: the model's channel count and input
     * size, values 0..255. Receptive-field boxes are in these coordinates.
     */
    public Pixels modelPixels(Pixels p) {
        return modelPixels(ScaledPixels.full(p));
    }

    /** As {@link #modelPixels(Pixels)}, for a decode that may be reduced: the resize geometry is the full picture's. */
    public Pixels modelPixels(ScaledPixels s) {
        Pixels c = toChannels(s.pixels(), spec.channels());
        return switch (spec.resize()) {
            case STRETCH -> s.resized(c, spec.width(), spec.height());
            case CENTER_CROP -> centerCrop(s, c);
        };
    }

    /**
     * A small pixel-space vector for comparing images directly: {@code channels} channels,
     * stretched to {@code size}×{@code size}, values 0..1 (CHW order).
     */
    public static float[] pixelVector(Pixels p, int channels, int size) {
        float[] d = Resize.bilinear(toChannels(p, channels), size, size).data();
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = d[i] / 255f;
        }
        return out;
    }

    public float[] apply(Pixels p) {
        return apply(ScaledPixels.full(p));
    }

    public float[] apply(ScaledPixels p) {
        float[] out = new float[floatsPerImage()];
        apply(p, out, 0);
        return out;
    }

    /** Shorter side to the resize size (sized from the full picture's {@code fullW} × {@code fullH}), then the centre crop. */
    private Pixels centerCrop(ScaledPixels s, Pixels p) {
        int fullW = s.fullWidth();
        int fullH = s.fullHeight();
        int size = spec.resizeSize();
        int w;
        int h;
        if (fullW <= fullH) {
            w = size;
            h = (int) ((long) size * fullH / fullW);
        } else {
            h = size;
            w = (int) ((long) size * fullW / fullH);
        }
        Pixels resized = (s.reduction() == 1 && w == p.width() && h == p.height()) ? p : s.resized(p, w, h);
        return Resize.crop(resized, (int) Math.round((w - spec.width()) / 2.0),
                (int) Math.round((h - spec.height()) / 2.0), spec.width(), spec.height());
    }

    static Pixels toChannels(Pixels p, int channels) {
        if (p.channels() == channels) {
            return p;
        }
        int plane = p.width() * p.height();
        float[] d = p.data();
        if (channels == 1) {
            float[] grey = new float[plane];
            for (int i = 0; i < plane; i++) {
                grey[i] = 0.299f * d[i] + 0.587f * d[plane + i] + 0.114f * d[2 * plane + i];
            }
            return new Pixels(p.width(), p.height(), 1, grey);
        }
        float[] rgb = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(d, 0, rgb, c * plane, plane);
        }
        return new Pixels(p.width(), p.height(), 3, rgb);
    }
}
