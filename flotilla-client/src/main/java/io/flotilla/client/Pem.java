package io.flotilla.client;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

/**
 * Reads the PEM files of TLS settings, so that a missing or wrong file is refused with one line
 * naming it, before any connection is made (rather than as a failed handshake later).
 */
public final class Pem {
    private Pem() {
    }

    /** The certificates in {@code file} (a chain, or a CA bundle); at least one. */
    public static List<X509Certificate> certificates(Path file, String what) {
        try (InputStream in = Files.newInputStream(readable(file, what))) {
            List<X509Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toList();
            if (certs.isEmpty()) {
                throw bad(file, what, "no PEM certificate in it");
            }
            return certs;
        } catch (CertificateException e) {
            throw bad(file, what, "not a PEM certificate (" + firstLine(e) + ")");
        } catch (IOException e) {
            throw bad(file, what, firstLine(e));
        }
    }

    /** The PKCS#8 private key ("BEGIN PRIVATE KEY") in {@code file}, EC or RSA. */
    public static PrivateKey privateKey(Path file, String what) {
        String text;
        try {
            text = Files.readString(readable(file, what), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw bad(file, what, firstLine(e));
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw bad(file, what, "no PKCS#8 private key (-----BEGIN PRIVATE KEY-----) in it"
                    + (text.contains("RSA PRIVATE KEY") || text.contains("EC PRIVATE KEY")
                    ? "; convert it with: openssl pkcs8 -topk8 -nocrypt -in " + file : ""));
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
        } catch (IllegalArgumentException e) {
            throw bad(file, what, "its base64 is damaged");
        }
        for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException tryNext) {
                // not this algorithm
            }
        }
        throw bad(file, what, "not an EC, RSA or Ed25519 private key");
    }

    /** Refuses a key that does not belong to the certificate: a handshake would fail obscurely. */
    public static void checkPair(PrivateKey key, Path keyFile, X509Certificate cert, Path certFile) {
        try {
            String algorithm = switch (key.getAlgorithm()) {
                case "EC" -> "SHA256withECDSA";
                case "RSA" -> "SHA256withRSA";
                default -> key.getAlgorithm();
            };
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(cert.getPublicKey());
            verify.update(probe);
            if (verify.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException mismatch) {
            // different algorithms: not a pair either
        }
        throw new IllegalArgumentException("TLS private key " + keyFile + " does not belong to certificate " + certFile);
    }

    private static Path readable(Path file, String what) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw bad(file, what, "does not exist or is not readable");
        }
        return file;
    }

    private static IllegalArgumentException bad(Path file, String what, String why) {
        return new IllegalArgumentException("TLS " + what + " " + file + ": " + why);
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** The certificate chain as the array SslContextBuilder takes. */
    static X509Certificate[] array(List<X509Certificate> certs) {
        return certs.toArray(X509Certificate[]::new);
    }
}
