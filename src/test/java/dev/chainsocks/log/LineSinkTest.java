package dev.chainsocks.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class LineSinkTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void linesArriveInOrderAndBurstsAreWrittenTogether() throws Exception {
        CountingStream out = new CountingStream();
        LineSink sink = new LineSink(out, 1 << 20);
        for (int i = 0; i < 1000; i++) {
            sink.offer("line " + i + "\n");
        }
        assertThat(sink.drain(WAIT)).isTrue();
        String written = out.text();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            expected.append("line ").append(i).append('\n');
        }
        assertThat(written).isEqualTo(expected.toString());
        assertThat(out.writes.get()).as("write calls for 1000 lines offered at once").isLessThan(1000);
        assertThat(sink.dropped()).isZero();
        sink.close(WAIT);
        assertThat(sink.awaitStopped(WAIT)).isTrue();
    }

    @Test
    void aStalledReaderCostsBoundedMemoryAndTheDropsAreReported() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch writing = new CountDownLatch(1);
        CountingStream out = new CountingStream() {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                super.write(bytes, offset, length);
            }
        };
        int capacity = 1000;
        LineSink sink = new LineSink(out, capacity);
        // The first line is taken by the writer thread, which then blocks on the stalled stream.
        sink.offer("first\n");
        assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
        String line = "0123456789abcdefghi\n"; // 20 bytes
        for (int i = 0; i < 200; i++) {
            sink.offer(line);
        }
        long dropped = sink.dropped();
        assertThat(dropped).as("lines beyond %d bytes are dropped, not queued", capacity).isEqualTo(150L);
        release.countDown();
        assertThat(sink.drain(WAIT)).isTrue();
        sink.offer("after\n");
        assertThat(sink.drain(WAIT)).isTrue();
        String text = out.text();
        assertThat(text).startsWith("first\n").contains(line)
                .contains("chainsocks: " + dropped + " log line(s) dropped: standard error was not read fast enough\n")
                .endsWith("after\n");
        assertThat(text.split("\n")).filteredOn(line::startsWith).hasSize((int) (200 - dropped));
        sink.close(WAIT);
    }

    @Test
    void afterCloseLinesAreCountedNotQueued() throws Exception {
        CountingStream out = new CountingStream();
        LineSink sink = new LineSink(out, 1 << 10);
        sink.offer("kept\n");
        sink.close(WAIT);
        sink.offer("late\n");
        assertThat(sink.awaitStopped(WAIT)).isTrue();
        assertThat(out.text()).isEqualTo("kept\n");
        assertThat(sink.dropped()).isEqualTo(1);
    }

    private static class CountingStream extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final AtomicInteger writes = new AtomicInteger();

        @Override
        public void write(int b) {
            bytes.write(b);
        }

        @Override
        public void write(byte[] data, int offset, int length) throws IOException {
            writes.incrementAndGet();
            synchronized (bytes) {
                bytes.write(data, offset, length);
            }
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
