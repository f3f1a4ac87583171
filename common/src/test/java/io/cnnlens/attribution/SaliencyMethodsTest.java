package io.cnnlens.attribution;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry of saliency methods and what {@link SaliencySettings} makes of it. */
class SaliencyMethodsTest {

    static final List<String> SIX = List.of("gradient", "guided-backprop", "smoothgrad", "integrated-gradients", "occlusion", "shapley");

    @Test
    void namesAreTheRegistryInItsOrder() {
        assertEquals(SIX, SaliencySettings.NAMES);
        assertEquals(SIX, SaliencyMethods.names());
    }

    @Test
    void eachRegisteredMethodIsMadeUnderItsNameAndSaysWhetherItNeedsStages() {
        for (SaliencyMethod m : SaliencyMethods.REGISTRY) {
            Saliency s = m.create(SaliencySettings.defaults());
            assertEquals(m.name(), s.name());
            assertEquals(m.name().equals("guided-backprop"), m.needsStages(), m.name());
            assertEquals(m.needsStages(), s.needsStages(), m.name());
        }
    }

    @Test
    void createTakesNamesInTheOrderGivenIgnoringCaseAndBlanks() {
        List<Saliency> s = SaliencySettings.defaults().create(List.of(" Occlusion", "gradient ", "SMOOTHGRAD"));
        assertEquals(List.of("occlusion", "gradient", "smoothgrad"), s.stream().map(Saliency::name).toList());
        assertTrue(s.get(2) instanceof SmoothGrad);
    }

    @Test
    void unknownAndMissingNamesAreErrorsListingTheKnownOnes() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SaliencySettings.defaults().create(List.of("gradient", "lime")));
        assertEquals("unknown saliency method 'lime'; known: " + SIX, unknown.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> SaliencySettings.defaults().create(List.of()));
        assertEquals("no saliency method given; known: " + SIX, empty.getMessage());
    }

    @Test
    void aModelWithoutStagesCannotRunGuidedBackpropAndIsToldWhy() {
        assertEquals(SIX, SaliencySettings.supported(true));
        assertEquals(List.of("gradient", "smoothgrad", "integrated-gradients", "occlusion", "shapley"), SaliencySettings.supported(false));
        SaliencyMethod guided = SaliencyMethods.byName("guided-backprop").orElseThrow();
        assertTrue(guided.unsupportedReason(false).orElseThrow().contains("ordered list of stages"));
        assertFalse(guided.unsupportedReason(true).isPresent());
        assertFalse(SaliencyMethods.byName("gradient").orElseThrow().unsupportedReason(false).isPresent());
    }
}
