package io.flotilla.client.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    @Test
    void splitsOnWhitespaceAndHonoursQuotes() {
        assertThat(Tokenizer.split("  set  key   value ")).containsExactly("set", "key", "value");
        assertThat(Tokenizer.split("set 'a b' \"c \\\" d\" e\\ f ''")).containsExactly("set", "a b", "c \" d", "e f", "");
        assertThat(Tokenizer.split("cas k'ey' \"\" x")).containsExactly("cas", "key", "", "x");
    }

    @Test
    void refusesUnclosedQuotes() {
        assertThatThrownBy(() -> Tokenizer.split("set 'a")).hasMessageContaining("unclosed single quote at column 5");
        assertThatThrownBy(() -> Tokenizer.split("set \"a")).hasMessageContaining("unclosed double quote");
        assertThatThrownBy(() -> Tokenizer.split("set a\\")).hasMessageContaining("backslash ends the line");
    }

    @Test
    void durationsTakeUnits() {
        DurationConverter c = new DurationConverter();
        assertThat(c.convert("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(c.convert("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.convert("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.convert("3")).isEqualTo(Duration.ofSeconds(3));
        assertThatThrownBy(() -> c.convert("0s")).hasMessageContaining("not a positive duration");
        assertThatThrownBy(() -> c.convert("soon")).hasMessageContaining("not a duration");
    }

    @Test
    void findsTheInvokedCommandPastTopLevelOptions() {
        assertThat(FlotillaCli.invokedCommand(new String[] {"--cluster", "a:1", "-o", "json", "get", "k"})).isEqualTo("get");
        assertThat(FlotillaCli.invokedCommand(new String[] {"--verbose", "status"})).isEqualTo("status");
        assertThat(FlotillaCli.invokedCommand(new String[] {"--help", "get"})).isNull();
        assertThat(FlotillaCli.invokedCommand(new String[] {"frobnicate"})).isNull();
    }
}
