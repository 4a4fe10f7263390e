package dev.chainsocks.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A throwaway MIT Kerberos realm ({@code krb5kdc} from Debian's krb5-kdc) inside a namespace: database, stash,
 * krb5.conf and kdc.conf all in the test's workspace, the KDC listening on one namespace address (TCP and UDP),
 * never the machine's {@code /etc/krb5.conf} or {@code /etc/krb5kdc}. Every Kerberos program the test runs gets
 * {@link #environment()} ({@code KRB5_CONFIG}, {@code KRB5_KDC_PROFILE}, a replay cache directory in the workspace);
 * a JVM gets {@link #jvmOptions()}, since the JDK reads only {@code java.security.krb5.conf}.
 */
public final class Kdc implements AutoCloseable {

    public static final String REALM = "CHAINSOCKS.TEST";

    private final Netns netns;
    private final Endpoint endpoint;
    private final Path dir;
    private final Path krb5Conf;
    private final Path kdcConf;
    private final Path rcacheDir;
    private ManagedProcess process;

    private Kdc(Netns netns, Endpoint endpoint) {
        this.netns = netns;
        this.endpoint = endpoint;
        TestWorkspace workspace = netns.workspace();
        this.dir = workspace.newDirectory("kdc");
        this.rcacheDir = workspace.newDirectory("krb5-rcache");
        String ticketLifetime = "1h";
        this.krb5Conf = workspace.writeFile(dir, "krb5.conf", String.join("\n",
                "[libdefaults]",
                "  default_realm = " + REALM,
                "  dns_lookup_kdc = false",
                "  dns_lookup_realm = false",
                "  dns_canonicalize_hostname = false",
                "  rdns = false",
                "  udp_preference_limit = 1",
                "  ticket_lifetime = " + ticketLifetime,
                "  default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96",
                "  default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96",
                "  permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96",
                "[realms]",
                "  " + REALM + " = {",
                "    kdc = " + endpoint,
                "  }",
                ""));
        this.kdcConf = workspace.writeFile(dir, "kdc.conf", String.join("\n",
                "[kdcdefaults]",
                "  kdc_listen = " + endpoint,
                "  kdc_tcp_listen = " + endpoint,
                "[realms]",
                "  " + REALM + " = {",
                "    database_name = " + dir.resolve("principal"),
                "    key_stash_file = " + dir.resolve("stash"),
                "    acl_file = " + dir.resolve("kadm5.acl"),
                "    max_life = " + ticketLifetime,
                "    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal",
                "  }",
                "[logging]",
                "  kdc = STDERR",
                ""));
        workspace.writeFile(dir, "kadm5.acl", "");
    }

    /** Creates the realm's database and starts the KDC in {@code netns} on {@code endpoint}. */
    public static Kdc start(Netns netns, Endpoint endpoint) {
        Kdc kdc = new Kdc(netns, endpoint);
        kdc.run(Duration.ofSeconds(60), "kdb5_util", "create", "-s", "-r", REALM, "-P", "throwaway-master-key");
        kdc.process = netns.spawn("krb5kdc", kdc.withEnvironment(List.of("krb5kdc", "-n", "-r", REALM)));
        kdc.process.waitForPort(endpoint, Duration.ofSeconds(20));
        return kdc;
    }

    /** Adds {@code principal} (without realm) with a random key. */
    public void addPrincipal(String principal) {
        kadmin("addprinc -randkey " + principal);
    }

    /**
     * Writes {@code principal}'s key to a new keytab in the workspace. Each export gives the principal a new random
     * key (a new kvno), so an older export is a keytab with the wrong key.
     */
    public Path exportKeytab(String principal, String fileName) {
        Path keytab = dir.resolve(fileName);
        kadmin("ktadd -k " + keytab + " " + principal);
        return keytab;
    }

    /**
     * Gets {@code principal}'s ticket-granting ticket with its key from {@code keytab} into a new credential cache
     * file in the workspace, valid for {@code lifetime}, as a user would with {@code kinit -l}.
     */
    public Path kinit(String principal, Path keytab, Duration lifetime, String cacheName) {
        Path cache = dir.resolve(cacheName);
        run(Duration.ofSeconds(30), "kinit", "-k", "-t", keytab.toString(), "-l", lifetime.toSeconds() + "s", "-c",
                "FILE:" + cache, principal);
        return cache;
    }

    /** Whether {@code cache} holds a ticket that has not expired ({@code klist -s}). */
    public boolean holdsCurrentTickets(Path cache) {
        return netns.run(Duration.ofSeconds(30), withEnvironment(List.of("klist", "-s", "-c", "FILE:" + cache))
                .toArray(String[]::new)).succeeded();
    }

    private void kadmin(String query) {
        run(Duration.ofSeconds(30), "kadmin.local", "-r", REALM, "-q", query);
    }

    private void run(Duration timeout, String... command) {
        Command.Result result = netns.run(timeout, withEnvironment(List.of(command)).toArray(String[]::new));
        result.requireSuccess();
    }

    /** {@code env KRB5_CONFIG=... KRB5_KDC_PROFILE=... KRB5RCACHEDIR=... <command>}. */
    public List<String> withEnvironment(List<String> command) {
        List<String> full = new ArrayList<>(List.of("env"));
        full.addAll(environment());
        full.addAll(command);
        return full;
    }

    public List<String> environment() {
        return List.of("KRB5_CONFIG=" + krb5Conf, "KRB5_KDC_PROFILE=" + kdcConf, "KRB5RCACHEDIR=" + rcacheDir,
                "KRB5CCNAME=FILE:" + dir.resolve("no-default-ccache"));
    }

    /** For a JVM: this realm's krb5.conf, and the replay cache in the workspace (the JDK's default is /var/tmp). */
    public List<String> jvmOptions() {
        return List.of("-Djava.security.krb5.conf=" + krb5Conf, "-Dsun.security.krb5.rcache=dfl:" + rcacheDir);
    }

    public String principal(String name) {
        return name + "@" + REALM;
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        if (process != null) {
            process.stop();
        }
    }
}
