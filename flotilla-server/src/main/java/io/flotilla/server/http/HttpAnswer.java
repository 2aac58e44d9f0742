package io.flotilla.server.http;

import java.nio.charset.StandardCharsets;

/** One HTTP answer: status, content type and the whole body. */
public record HttpAnswer(int status, String contentType, byte[] body) {
    public static HttpAnswer text(int status, String text) {
        return new HttpAnswer(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    public static HttpAnswer json(int status, byte[] json) {
        return new HttpAnswer(status, "application/json", json);
    }
}
