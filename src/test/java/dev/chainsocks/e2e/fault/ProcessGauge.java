package dev.chainsocks.e2e.fault;

import dev.chainsocks.e2e.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What the kernel says about one process, read from {@code /proc/PID}: resident memory ({@code VmRSS} of
 * {@code status}), open descriptors (entries of {@code fd/}) and CPU time used ({@code utime + stime} of
 * {@code stat}, in clock ticks).
 */
final class ProcessGauge {

    /** One reading. {@code nanos} is this JVM's {@link System#nanoTime()} when it was taken. */
    record Sample(long rssKib, int fds, int pipeFds, long cpuTicks, long nanos) {

        /** Descriptors other than pipes: sockets above all. */
        int nonPipeFds() {
            return fds - pipeFds;
        }

        double rssMib() {
            return rssKib / 1024.0;
        }

        /** CPU used between {@code earlier} and this sample, as a share of one core (1.0 = one core busy). */
        double cpuShareSince(Sample earlier) {
            double cpuSeconds = (cpuTicks - earlier.cpuTicks) / (double) ticksPerSecond();
            double wallSeconds = (nanos - earlier.nanos) / 1e9;
            return wallSeconds <= 0 ? 0 : cpuSeconds / wallSeconds;
        }

        Duration since(Sample earlier) {
            return Duration.ofNanos(nanos - earlier.nanos);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "rss=%.1fMiB fds=%d (pipes %d) cpu=%.2fs", rssMib(), fds, pipeFds,
                    cpuTicks / (double) ticksPerSecond());
        }
    }

    /** The extremes of samples taken in the background by {@link #watch}. */
    record Extremes(long maxRssKib, int maxFds, int samples) {
        double maxRssMib() {
            return maxRssKib / 1024.0;
        }
    }

    /** Samples every {@code period} on a daemon thread until {@link Watch#stop()}. */
    final class Watch {
        private final Thread thread;
        private volatile boolean stopped;
        private long maxRss;
        private int maxFds;
        private int samples;

        private Watch(Duration period) {
            thread = new Thread(() -> {
                while (!stopped) {
                    try {
                        Sample sample = sample();
                        synchronized (this) {
                            maxRss = Math.max(maxRss, sample.rssKib());
                            maxFds = Math.max(maxFds, sample.fds());
                            samples++;
                        }
                        Thread.sleep(period.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        return; // the process ended; what was sampled stands
                    }
                }
            }, "gauge-" + pid);
            thread.setDaemon(true);
            thread.start();
        }

        Extremes stop() {
            stopped = true;
            thread.interrupt();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (this) {
                return new Extremes(maxRss, maxFds, samples);
            }
        }
    }

    private static volatile long ticksPerSecond;

    private final long pid;
    private final Path proc;

    private ProcessGauge(long pid) {
        this.pid = pid;
        this.proc = Path.of("/proc", Long.toString(pid));
    }

    static ProcessGauge of(long pid) {
        return new ProcessGauge(pid);
    }

    long pid() {
        return pid;
    }

    /** Starts sampling in the background. */
    Watch watch(Duration period) {
        return new Watch(period);
    }

    Sample sample() {
        long rss = rssKib();
        List<Path> fds = fdEntries();
        int pipes = (int) fds.stream().filter(ProcessGauge::isPipe).count();
        long cpu = cpuTicks();
        return new Sample(rss, fds.size(), pipes, cpu, System.nanoTime());
    }

    long rssKib() {
        for (String line : read("status")) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).replace("kB", "").strip());
            }
        }
        throw new IllegalStateException("no VmRSS in " + proc.resolve("status"));
    }

    int fds() {
        return fdEntries().size();
    }

    /** The entries of {@code /proc/PID/fd}: one per open descriptor. */
    private List<Path> fdEntries() {
        try (Stream<Path> entries = Files.list(proc.resolve("fd"))) {
            return entries.toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + proc.resolve("fd"), e);
        }
    }

    /** Whether a descriptor is a pipe (the relay's splice pipes, pooled by the event loops between uses). */
    private static boolean isPipe(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString().startsWith("pipe:");
        } catch (IOException e) {
            return false; // closed meanwhile
        }
    }

    /** utime + stime: fields 14 and 15 of {@code stat}, counted after the command name in parentheses. */
    long cpuTicks() {
        String stat = String.join(" ", read("stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields[0] is field 3 (state), so field N is fields[N - 3]
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private List<String> read(String file) {
        try {
            return Files.readAllLines(proc.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + proc.resolve(file) + " (has process " + pid
                    + " exited?)", e);
        }
    }

    static long ticksPerSecond() {
        if (ticksPerSecond == 0) {
            String out = Command.run(List.of("getconf", "CLK_TCK"), Command.DEFAULT_TIMEOUT).requireSuccess()
                    .stdout().strip();
            ticksPerSecond = Long.parseLong(out);
        }
        return ticksPerSecond;
    }
}
