package io.github.vdep.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The documented normalisation steps, one by one. */
class VqaNormalizerTest {

    @ParameterizedTest(name = "\"{0}\" -> \"{1}\"")
    @CsvSource(delimiter = '|', value = {
        "Yes|yes",
        "Yes.|yes",
        "a dog|dog",
        "An apple|apple",
        "the cat on the mat|cat on mat",
        "Two|2",
        "ten dogs|10 dogs",
        "none|0",
        "There are three.|there are 3",
        "1,000|1000",
        "1,2,3|123",
        "2.5|2.5",
        "e.g. this|eg this",
        "don't|dont",
        "man's hat|mans hat",
        "t-shirt|t shirt",
        "black/white|black white",
        "(left)|left",
        "yes!!!|yes",
        "\"quoted\"|quoted",
        "another|another",
        "theater|theater",
        "a|''",
        "''|''",
    })
    void normalizes(String input, String expected) {
        assertEquals(expected, VqaNormalizer.normalize(input));
    }

    @Test
    void collapsesWhitespace() {
        assertEquals("red car", VqaNormalizer.normalize("  The   Red\tCar \n"));
        assertEquals("left right", VqaNormalizer.normalize("left\n\nright"));
    }

    @Test
    void matchesEquivalentAnswers() {
        assertTrue(VqaNormalizer.matches("Two.", "2"));
        assertTrue(VqaNormalizer.matches("The dog", "dog"));
        assertTrue(VqaNormalizer.matches("YES", "yes"));
        assertFalse(VqaNormalizer.matches("two dogs", "2"));
        assertFalse(VqaNormalizer.matches("no", "yes"));
    }
}
