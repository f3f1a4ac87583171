package io.cnnlens.tuning;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SearchSpaceTest {

    static final String SPACE = """
            # the lecture's two scales and one that hardly matters
            lr           = loguniform 1e-4 1e-1
            weight-decay = loguniform 1e-6 1e-2
            dropout      = uniform 0 0.5
            optimizer    = choice adam sgd
            width        = 0.5
            """;

    @Test
    void randomIsSeededAndLogUniform() {
        SearchSpace s = SearchSpace.parse(SPACE, "test");
        List<Recipe> a = s.random(Recipe.defaults(), 2000, 11);
        assertEquals(a, s.random(Recipe.defaults(), 2000, 11));
        assertNotEquals(a, s.random(Recipe.defaults(), 2000, 12));
        assertEquals(a.get(5), s.sample(Recipe.defaults(), 11, 5), "trial i is the same whether drawn alone or in a list");
        // log-uniform: a quarter of the log range each holds about a quarter of the draws
        long low = a.stream().filter(r -> r.lr() < Math.pow(10, -3.25)).count();
        assertTrue(Math.abs(low - 500) < 80, "lr below 10^-3.25: " + low + " of 2000");
        long d = a.stream().filter(r -> r.dropout() < 0.25).count();
        assertTrue(Math.abs(d - 1000) < 100, "uniform dropout below 0.25: " + d);
        assertTrue(a.stream().allMatch(r -> r.width() == 0.5));
        assertTrue(a.stream().anyMatch(r -> r.optimizer().equals("sgd")) && a.stream().anyMatch(r -> r.optimizer().equals("adam")));
    }

    @Test
    void gridIsTheCartesianProduct() {
        SearchSpace s = SearchSpace.parse(SPACE, "test");
        List<Recipe> g = s.grid(Recipe.defaults(), 3);
        assertEquals(3 * 3 * 3 * 2, g.size());
        assertEquals(3, g.stream().map(Recipe::lr).distinct().count());
        assertTrue(g.stream().anyMatch(r -> Math.abs(r.lr() - 1e-4) < 1e-12) && g.stream().anyMatch(r -> Math.abs(r.lr() - 0.1) < 1e-9));
        assertTrue(g.stream().anyMatch(r -> Math.abs(r.lr() - Math.pow(10, -2.5)) < 1e-6), "log midpoint");
    }

    @Test
    void refineNarrowsAroundTheBest() {
        SearchSpace s = SearchSpace.parse(SPACE, "test");
        List<Recipe> best = List.of(Recipe.defaults().with("lr", "0.002").with("optimizer", "adam"),
                Recipe.defaults().with("lr", "0.005").with("optimizer", "adam"));
        SearchSpace r = s.refine(best, 2);
        assertEquals(0.001, r.dims().get("lr").low(), 1e-9);
        assertEquals(0.01, r.dims().get("lr").high(), 1e-9);
        assertEquals(List.of("adam"), r.dims().get("optimizer").choices());
        assertEquals(r.text(), SearchSpace.parse(r.text(), "again").text());
    }

    @Test
    void badLinesSayWhere() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SearchSpace.parse("lr = loguniform 0 1\n", "space.txt"));
        assertTrue(e.getMessage().contains("space.txt line 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SearchSpace.parse("colour = choice red\n", "x"));
        assertThrows(IllegalArgumentException.class, () -> SearchSpace.parse("optimizer = choice adam rmsprop\n", "x"));
    }

    @Test
    void successiveHalvingRungsAndPromotion() {
        assertEquals(List.of(1, 3, 9), SuccessiveHalving.rungs(1, 9, 3));
        assertEquals(List.of(1, 3, 8), SuccessiveHalving.rungs(1, 8, 3));
        List<SuccessiveHalving.Scored> rung = List.of(new SuccessiveHalving.Scored(0, 0.5, false),
                new SuccessiveHalving.Scored(1, 0.9, false), new SuccessiveHalving.Scored(2, Double.NaN, true),
                new SuccessiveHalving.Scored(3, 0.7, false), new SuccessiveHalving.Scored(4, 0.95, true),
                new SuccessiveHalving.Scored(5, 0.6, false));
        assertEquals(List.of(1, 3), SuccessiveHalving.promote(rung, 3), "the best third, diverged ones never");
    }
}
