package io.flotilla.client;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What a future's failure was about: futures wrap it in a CompletionException (or an ExecutionException from get). */
public final class Futures {
    private Futures() {
    }

    public static Throwable cause(Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
