package dev.chainsocks.proto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Test vectors written as hex: {@code "04 01 00 50"}; whitespace is ignored, {@code 'text'} is taken as ASCII. */
public final class Hex {

    private Hex() {
    }

    public static byte[] bytes(String vector) {
        ByteBuffer out = ByteBuffer.allocate(vector.length());
        int i = 0;
        while (i < vector.length()) {
            char c = vector.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '\'') {
                int end = vector.indexOf('\'', i + 1);
                out.put(vector.substring(i + 1, end).getBytes(StandardCharsets.US_ASCII));
                i = end + 1;
            } else {
                out.put((byte) Integer.parseInt(vector.substring(i, i + 2), 16));
                i += 2;
            }
        }
        byte[] result = new byte[out.position()];
        out.flip().get(result);
        return result;
    }

    public static ByteBuffer buffer(String vector) {
        return ByteBuffer.wrap(bytes(vector));
    }

    /** The remaining bytes as {@code "04 01 00 50"}, position untouched. */
    public static String of(ByteBuffer buffer) {
        StringBuilder text = new StringBuilder();
        ByteBuffer view = buffer.duplicate();
        while (view.hasRemaining()) {
            text.append(text.length() == 0 ? "" : " ").append(String.format("%02x", view.get() & 0xff));
        }
        return text.toString();
    }

    public static String of(byte[] bytes) {
        return of(ByteBuffer.wrap(bytes));
    }

    /** Normalizes a vector for comparison with {@link #of}. */
    public static String normalized(String vector) {
        return of(bytes(vector));
    }

    /** Drains a handshake's outbound buffer, as a driver writing it to a socket would. */
    public static byte[] drain(ByteBuffer outbound) {
        byte[] bytes = new byte[outbound.remaining()];
        outbound.get(bytes);
        return bytes;
    }
}
