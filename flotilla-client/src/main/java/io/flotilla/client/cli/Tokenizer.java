package io.flotilla.client.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a shell line into words: whitespace separates them; single quotes keep everything
 * literally; double quotes keep spaces and honour backslash escapes; a backslash outside quotes
 * escapes the next character. {@code ''} or {@code ""} is an empty word.
 */
final class Tokenizer {
    private Tokenizer() {
    }

    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'') {
                int end = line.indexOf('\'', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unclosed single quote at column " + (i + 1));
                }
                word.append(line, i + 1, end);
                inWord = true;
                i = end;
            } else if (c == '"') {
                int j = i + 1;
                for (; j < line.length() && line.charAt(j) != '"'; j++) {
                    if (line.charAt(j) == '\\' && j + 1 < line.length()) {
                        j++;
                    }
                    word.append(line.charAt(j));
                }
                if (j >= line.length()) {
                    throw new IllegalArgumentException("unclosed double quote at column " + (i + 1));
                }
                inWord = true;
                i = j;
            } else if (c == '\\') {
                if (i + 1 >= line.length()) {
                    throw new IllegalArgumentException("a backslash ends the line");
                }
                word.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
