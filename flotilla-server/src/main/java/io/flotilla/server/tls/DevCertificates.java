package io.flotilla.server.tls;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bin/flotilla-certs}: a development CA and certificates for a local cluster. Node N gets
 * {@code CN=node-N} (the identity nodes check, docs/protocol.md) with SANs 127.0.0.1 and localhost;
 * the client certificate is {@code CN=client}. EC P-256 keys, PKCS#8 PEM, readable only by the owner.
 * For development only: a production CA keeps its key elsewhere.
 */
@Command(name = "flotilla-certs", mixinStandardHelpOptions = true, version = "flotilla-certs 0.1.0", sortOptions = false,
        description = {"Creates a development CA and TLS certificates for nodes 1..N and one client: DIR/ca.pem, ca.key, "
                + "node-<id>.pem, node-<id>.key, client.pem, client.key. Keys are PKCS#8 PEM, mode 600; certificates are valid for --days."})
public final class DevCertificates implements Callable<Integer> {
    static final Duration CLOCK_SKEW = Duration.ofHours(1);

    @Parameters(index = "0", paramLabel = "NODES", description = "How many node certificates: node-1 .. node-NODES.")
    int nodes;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to write them (default: ${DEFAULT-VALUE}).", defaultValue = "certs")
    Path dir;

    @Option(names = "--host", paramLabel = "NAME", description = "Another name or IP address for every node certificate (repeatable); "
            + "127.0.0.1 and localhost are always in it. Only for other tools: nodes check ids, not host names.")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--days", paramLabel = "N", description = "Validity in days (default: ${DEFAULT-VALUE}).", defaultValue = "365")
    int days;

    @Option(names = "--force", description = "Replace an existing CA (and every certificate it signed).")
    boolean force;

    @Spec
    CommandSpec spec;

    private final SecureRandom random = new SecureRandom();

    @Override
    public Integer call() throws Exception {
        if (nodes < 1 || nodes > 1000) {
            throw new CommandLine.ParameterException(spec.commandLine(), "NODES must be between 1 and 1000, got " + nodes);
        }
        if (days < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--days must be positive, got " + days);
        }
        GeneralNames sans = sans();
        Path ca = dir.resolve("ca.pem");
        PrintWriter err = spec.commandLine().getErr();
        if (!force && (Files.exists(ca) || Files.exists(dir.resolve("ca.key")))) {
            err.println("flotilla-certs: " + ca + " exists; not overwriting the CA (add --force to replace it and every certificate)");
            err.flush();
            return 1;
        }
        try {
            Files.createDirectories(dir);
            write(dir, sans);
        } catch (IOException | UncheckedIOException e) {
            err.println("flotilla-certs: cannot write to " + dir + ": " + e.getMessage());
            err.flush();
            return 1;
        }
        spec.commandLine().getOut().println("flotilla-certs: wrote a CA, node-1 .. node-" + nodes + " and client certificates to "
                + dir + " (valid " + days + " days)");
        spec.commandLine().getOut().flush();
        return 0;
    }

    private void write(Path out, GeneralNames sans) throws IOException, GeneralSecurityException, OperatorCreationException {
        KeyPair caKeys = keyPair();
        X500Principal caName = new X500Principal("CN=Flotilla development CA");
        X509Certificate caCert = sign(caName, caKeys.getPublic(), caName, caKeys, true, null, null);
        pem(out.resolve("ca.pem"), caCert, false);
        pem(out.resolve("ca.key"), new JcaPKCS8Generator(caKeys.getPrivate(), null).generate(), true);
        for (int id = 1; id <= nodes; id++) {
            issue(out, "node-" + id, caName, caKeys, sans);
        }
        issue(out, "client", caName, caKeys, null);
    }

    /** 127.0.0.1, localhost and --host: IP addresses as such, the rest as DNS names. */
    private GeneralNames sans() {
        Set<String> names = new LinkedHashSet<>(List.of("127.0.0.1", "localhost"));
        names.addAll(hosts);
        List<GeneralName> out = new ArrayList<>();
        for (String name : names) {
            boolean ip = name.matches("[0-9.]+") || name.contains(":");
            if (ip && !validIp(name)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--host " + name + ": not an IP address");
            }
            out.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, name));
        }
        return new GeneralNames(out.toArray(GeneralName[]::new));
    }

    private static boolean validIp(String literal) {
        try {
            InetAddress.getByName(literal); // a literal is parsed, never looked up
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void issue(Path out, String cn, X500Principal caName, KeyPair caKeys, GeneralNames sans)
            throws IOException, GeneralSecurityException, OperatorCreationException {
        KeyPair keys = keyPair();
        X509Certificate cert = sign(new X500Principal("CN=" + cn), keys.getPublic(), caName, caKeys, false, sans,
                sans == null ? new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth}
                        : new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth});
        pem(out.resolve(cn + ".pem"), cert, false);
        pem(out.resolve(cn + ".key"), new JcaPKCS8Generator(keys.getPrivate(), null).generate(), true);
    }

    private X509Certificate sign(X500Principal subject, java.security.PublicKey key, X500Principal issuer, KeyPair issuerKeys,
                                 boolean ca, GeneralNames sans, KeyPurposeId[] purposes)
            throws IOException, GeneralSecurityException, OperatorCreationException {
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, random).add(BigInteger.ONE),
                Date.from(now.minus(CLOCK_SKEW)), Date.from(now.plus(Duration.ofDays(days))), subject, key);
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
        if (purposes != null) {
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
        }
        if (sans != null) {
            b.addExtension(Extension.subjectAlternativeName, false, sans);
        }
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** Writes one PEM object; a key file is created readable by its owner only, before anything is in it. */
    private static void pem(Path file, Object object, boolean secret) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(text)) {
            w.writeObject(object);
        }
        Files.deleteIfExists(file); // --force: a fresh file gets the permissions below
        try {
            if (secret) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(file);
        } catch (FileAlreadyExistsException raced) {
            throw new IOException(file + " appeared while writing");
        }
        Files.writeString(file, text.toString(), StandardCharsets.US_ASCII, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DevCertificates());
        return cli.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("flotilla-certs: " + e.getMessage() + " (see --help)");
            e.getCommandLine().getErr().flush();
            return 2;
        }).setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("flotilla-certs: " + e);
            cmd.getErr().flush();
            return 1;
        });
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
