package io.flotilla.core.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class MessageCodecTest {
    // Offsets of fields the error tests corrupt; they follow the layout in MessageCodec's Javadoc.
    private static final int VERSION_AT = 0;
    private static final int KIND_AT = 1;
    private static final int FROM_AT = 2;
    private static final int TO_AT = 6;
    private static final int TERM_AT = 10;
    private static final int PRE_VOTE_AT = 34; // RequestVote
    private static final int PREV_LOG_INDEX_AT = 18; // AppendEntries
    private static final int ROUND_AT = 42;
    private static final int COUNT_AT = 50;
    private static final int ENTRY_AT = 54; // first entry
    private static final int ENTRY_INDEX_AT = ENTRY_AT;
    private static final int ENTRY_TYPE_AT = ENTRY_AT + 16;
    private static final int ENTRY_LENGTH_AT = ENTRY_AT + 17;

    private final MessageCodec codec = new MessageCodec(1 << 20);

    // ---- samples ---------------------------------------------------------------------------

    private static byte[] allByteValues() {
        byte[] bytes = new byte[256];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        return bytes;
    }

    private static AppendEntries append(long prevLogIndex, LogEntry... entries) {
        return new AppendEntries(1, 2, 7, prevLogIndex, 6, List.of(entries), 40, 11);
    }

    /** Many entries: every type, with empty, text and binary payloads. */
    private static AppendEntries manyEntries() {
        List<Bytes> payloads = List.of(Bytes.EMPTY, Bytes.utf8("set x=1"), Bytes.wrap(allByteValues()),
                Bytes.wrap(new byte[] {0}), Bytes.wrap(new byte[3000]));
        List<LogEntry> entries = new ArrayList<>();
        long index = 101;
        for (EntryType type : EntryType.values()) {
            for (Bytes payload : payloads) {
                entries.add(new LogEntry(index++, 3 + index % 4, type, payload));
            }
        }
        return new AppendEntries(3, 1, 9, 100, 2, entries, 95, 12345);
    }

    static List<Message> samples() {
        return List.of(
                new RequestVote(1, 2, 3, 10, 2, false, false),
                new RequestVote(1, 2, 3, 10, 2, true, false),
                new RequestVote(1, 2, 3, 10, 2, false, true),
                new RequestVote(Integer.MAX_VALUE, 5, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, true, true),
                new RequestVote(4, 5, 0, 0, 0, false, false),
                new VoteResponse(2, 1, 3, true, false),
                new VoteResponse(2, 1, 3, false, true),
                append(5),
                append(0, new LogEntry(1, 1, EntryType.NOOP, Bytes.EMPTY)),
                append(9, new LogEntry(10, 7, EntryType.NORMAL, Bytes.wrap(allByteValues()))),
                append(9, new LogEntry(10, 7, EntryType.CONFIG, Bytes.utf8("1,2,3"))),
                manyEntries(),
                AppendResponse.success(2, 1, 7, 45, 11),
                AppendResponse.reject(2, 1, 7, 45, 30, 4, 11),
                new TimeoutNow(1, 3, 8),
                new TimeoutNow(Integer.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE),
                new InstallSnapshot(1, 2, 9, new SnapshotMeta(500, 8, ClusterConfig.of(1, 2, 3)), 0, Bytes.wrap(allByteValues()), false, 0x1234abcd),
                new InstallSnapshot(1, 2, 9, new SnapshotMeta(500, 8, ClusterConfig.of(7)), 1 << 20, Bytes.EMPTY, true, -1),
                new SnapshotResponse(2, 1, 9, 500, 1 << 20, false),
                new SnapshotResponse(2, 1, 9, 500, 0, true),
                new BootstrapProbe(2, 1, 0),
                new BootstrapProbeResponse(1, 2, 4, 120),
                new BootstrapProbeResponse(1, 2, 0, 0));
    }

    @Test
    void samplesCoverEveryKindAndEntryType() {
        Set<Message.Kind> kinds = samples().stream().map(Message::kind).collect(Collectors.toSet());
        assertThat(kinds).containsExactlyInAnyOrderElementsOf(EnumSet.allOf(Message.Kind.class));
        Set<EntryType> types = samples().stream().filter(m -> m instanceof AppendEntries)
                .flatMap(m -> ((AppendEntries) m).entries().stream()).map(LogEntry::type).collect(Collectors.toSet());
        assertThat(types).containsExactlyInAnyOrderElementsOf(EnumSet.allOf(EntryType.class));
    }

    // ---- round trips -----------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("samples")
    void roundTrips(Message m) {
        byte[] bytes = codec.encode(m);

        assertThat(bytes).hasSize(codec.encodedSize(m));
        ByteBuffer in = ByteBuffer.wrap(bytes);
        assertThat(codec.decode(in)).isEqualTo(m);
        assertThat(in.hasRemaining()).as("decode consumes the whole buffer").isFalse();
    }

    @ParameterizedTest
    @MethodSource("samples")
    void encodesAtTheBufferPositionBigEndianWhateverTheBufferOrder(Message m) {
        int size = codec.encodedSize(m);
        ByteBuffer out = ByteBuffer.allocate(size + 10).order(ByteOrder.LITTLE_ENDIAN);
        out.position(3);

        codec.encode(m, out);

        assertThat(out.position()).isEqualTo(3 + size);
        assertThat(Arrays.copyOfRange(out.array(), 3, 3 + size)).isEqualTo(codec.encode(m));
        ByteBuffer in = ByteBuffer.wrap(out.array(), 3, size).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(codec.decode(in)).isEqualTo(m);
    }

    @Test
    void layoutMatchesTheDocumentation() {
        assertThat(hex(codec.encode(new TimeoutNow(1, 2, 3))))
                .isEqualTo("02" + "05" + "00000001" + "00000002" + "0000000000000003");
        assertThat(hex(codec.encode(new RequestVote(1, 2, 3, 4, 5, true, false))))
                .isEqualTo("02" + "01" + "00000001" + "00000002" + "0000000000000003"
                        + "0000000000000004" + "0000000000000005" + "01" + "00");
        assertThat(hex(codec.encode(new VoteResponse(2, 1, 3, true, false))))
                .isEqualTo("02" + "02" + "00000002" + "00000001" + "0000000000000003" + "01" + "00");
        assertThat(hex(codec.encode(AppendResponse.reject(2, 1, 3, 9, 5, 2, 4))))
                .isEqualTo("02" + "04" + "00000002" + "00000001" + "0000000000000003" + "00"
                        + "0000000000000009" + "0000000000000005" + "0000000000000002" + "0000000000000004");
        AppendEntries ae = new AppendEntries(1, 2, 3, 4, 2, List.of(new LogEntry(5, 3, EntryType.CONFIG, Bytes.utf8("ab"))), 4, 6);
        assertThat(hex(codec.encode(ae)))
                .isEqualTo("02" + "03" + "00000001" + "00000002" + "0000000000000003"
                        + "0000000000000004" + "0000000000000002" + "0000000000000004" + "0000000000000006"
                        + "00000001" + "0000000000000005" + "0000000000000003" + "02" + "00000002" + "6162");
    }

    // ---- encoding limits -------------------------------------------------------------------

    @Test
    void rejectsNonPositiveMaximum() {
        assertThatThrownBy(() -> new MessageCodec(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxMessageBytes");
        assertThatThrownBy(() -> new MessageCodec(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesToEncodeMessagesOverTheMaximum() {
        AppendEntries big = append(0, new LogEntry(1, 1, EntryType.NORMAL, Bytes.wrap(new byte[100])));
        MessageCodec small = new MessageCodec(codec.encodedSize(big) - 1);

        assertThatThrownBy(() -> small.encode(big)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exceeds the maximum");
        assertThat(new MessageCodec(codec.encodedSize(big)).encode(big)).isEqualTo(codec.encode(big));
    }

    @Test
    void writesNothingWhenTheBufferIsTooSmall() {
        Message m = new TimeoutNow(1, 2, 3);
        ByteBuffer out = ByteBuffer.allocate(codec.encodedSize(m) - 1);

        assertThatThrownBy(() -> codec.encode(m, out)).isInstanceOf(BufferOverflowException.class);
        assertThat(out.position()).isZero();
        assertThat(out.array()).containsOnly(0);
    }

    // ---- decoding errors -------------------------------------------------------------------

    private AbstractThrowableAssert<?, ? extends Throwable> assertDecodeFails(byte[] bytes) {
        return assertDecodeFails(codec, bytes);
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertDecodeFails(MessageCodec codec, byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        AbstractThrowableAssert<?, ? extends Throwable> thrown =
                assertThatThrownBy(() -> codec.decode(in)).isInstanceOf(MessageFormatException.class);
        assertThat(in.position()).as("a failed decode leaves the buffer alone").isZero();
        return thrown;
    }

    private byte[] encodeWith(Message m, int offset, int value) {
        return ByteBuffer.wrap(codec.encode(m)).putInt(offset, value).array();
    }

    private byte[] encodeWith(Message m, int offset, long value) {
        return ByteBuffer.wrap(codec.encode(m)).putLong(offset, value).array();
    }

    private byte[] encodeWithByte(Message m, int offset, int value) {
        return ByteBuffer.wrap(codec.encode(m)).put(offset, (byte) value).array();
    }

    private static final Message TIMEOUT = new TimeoutNow(1, 2, 3);
    private static final AppendEntries ONE_ENTRY =
            append(9, new LogEntry(10, 7, EntryType.NORMAL, Bytes.utf8("payload")));

    @Test
    void rejectsUnknownVersion() {
        assertDecodeFails(encodeWithByte(TIMEOUT, VERSION_AT, 1)).hasMessageContaining("unknown version 1");
        assertDecodeFails(encodeWithByte(TIMEOUT, VERSION_AT, 3)).hasMessageContaining("unknown version 3");
        assertDecodeFails(encodeWithByte(TIMEOUT, VERSION_AT, 0)).hasMessageContaining("unknown version 0");
    }

    @Test
    void rejectsUnknownKind() {
        assertDecodeFails(encodeWithByte(TIMEOUT, KIND_AT, 0)).hasMessageContaining("unknown message kind 0");
        assertDecodeFails(encodeWithByte(TIMEOUT, KIND_AT, 10)).hasMessageContaining("unknown message kind 10");
        assertDecodeFails(encodeWithByte(TIMEOUT, KIND_AT, 0xFF)).hasMessageContaining("unknown message kind 255");
    }

    @Test
    void truncationSaysWhichFieldAndHowManyBytesAreMissing() {
        byte[] bytes = codec.encode(TIMEOUT);

        assertDecodeFails(new byte[0]).hasMessage("truncated input: version needs 1 bytes but 0 remain (1 missing)");
        assertDecodeFails(Arrays.copyOf(bytes, 13)).hasMessageContaining("truncated input: term")
                .hasMessageContaining("5 missing");
        byte[] ae = codec.encode(ONE_ENTRY);
        assertDecodeFails(Arrays.copyOf(ae, ae.length - 3)).hasMessageContaining("entry 0 payload length 7")
                .hasMessageContaining("exceeds the 4 bytes remaining");
        assertDecodeFails(Arrays.copyOf(ae, PREV_LOG_INDEX_AT + 8 + 3))
                .hasMessage("truncated input: prevLogTerm needs 8 bytes but 3 remain (5 missing)");
    }

    @Test
    void rejectsTrailingBytes() {
        byte[] bytes = Arrays.copyOf(codec.encode(TIMEOUT), codec.encodedSize(TIMEOUT) + 2);

        assertDecodeFails(bytes).hasMessageContaining("2 trailing bytes after a complete TIMEOUT_NOW");
    }

    @Test
    void rejectsBooleansOtherThanZeroOrOne() {
        Message vote = new RequestVote(1, 2, 3, 10, 2, false, false);

        assertDecodeFails(encodeWithByte(vote, PRE_VOTE_AT, 2)).hasMessageContaining("bad boolean byte 2 for preVote");
        assertDecodeFails(encodeWithByte(vote, PRE_VOTE_AT + 1, 0xFF))
                .hasMessageContaining("bad boolean byte 255 for transfer");
    }

    @Test
    void rejectsUnknownEntryType() {
        assertDecodeFails(encodeWithByte(ONE_ENTRY, ENTRY_TYPE_AT, 7)).hasMessageContaining("unknown entry type 7 in entry 0");
    }

    @Test
    void rejectsNegativeOrOversizedPayloadLength() {
        assertDecodeFails(encodeWith(ONE_ENTRY, ENTRY_LENGTH_AT, -1))
                .hasMessageContaining("negative entry 0 payload length -1");
        assertDecodeFails(encodeWith(ONE_ENTRY, ENTRY_LENGTH_AT, 8))
                .hasMessageContaining("entry 0 payload length 8 exceeds the 7 bytes remaining");
    }

    @Test
    void rejectsPayloadLengthClaimingTwoGigabytes() {
        MessageCodec generous = new MessageCodec(Integer.MAX_VALUE);

        assertDecodeFails(generous, encodeWith(ONE_ENTRY, ENTRY_LENGTH_AT, Integer.MAX_VALUE))
                .hasMessageContaining("entry 0 payload length " + Integer.MAX_VALUE).hasMessageContaining("exceeds");
        assertDecodeFails(generous, encodeWith(ONE_ENTRY, ENTRY_LENGTH_AT, Integer.MIN_VALUE))
                .hasMessageContaining("negative entry 0 payload length");
    }

    @Test
    void rejectsNegativeOrOversizedEntryCount() {
        assertDecodeFails(encodeWith(ONE_ENTRY, COUNT_AT, -1)).hasMessageContaining("negative entry count -1");
        // One entry of 21 + 7 bytes is present: room for one entry, not two.
        assertDecodeFails(encodeWith(ONE_ENTRY, COUNT_AT, 2))
                .hasMessageContaining("entry count 2 cannot fit in the 28 bytes remaining");
    }

    @Test
    void rejectsEntryCountClaimingTwoGigaEntries() {
        MessageCodec generous = new MessageCodec(Integer.MAX_VALUE);

        assertDecodeFails(generous, encodeWith(append(9), COUNT_AT, Integer.MAX_VALUE))
                .hasMessageContaining("entry count " + Integer.MAX_VALUE).hasMessageContaining("cannot fit");
        assertDecodeFails(generous, encodeWith(ONE_ENTRY, COUNT_AT, Integer.MAX_VALUE))
                .hasMessageContaining("entry count " + Integer.MAX_VALUE).hasMessageContaining("cannot fit");
    }

    @Test
    void rejectsNonPositiveNodeIds() {
        assertDecodeFails(encodeWith(TIMEOUT, FROM_AT, 0)).hasMessageContaining("non-positive node id 0 in from");
        assertDecodeFails(encodeWith(TIMEOUT, TO_AT, -5)).hasMessageContaining("non-positive node id -5 in to");
    }

    @Test
    void rejectsNegativeTermsIndexesAndRounds() {
        assertDecodeFails(encodeWith(TIMEOUT, TERM_AT, -1L)).hasMessageContaining("negative term -1");
        assertDecodeFails(encodeWith(ONE_ENTRY, PREV_LOG_INDEX_AT, Long.MIN_VALUE))
                .hasMessageContaining("negative prevLogIndex " + Long.MIN_VALUE);
        assertDecodeFails(encodeWith(ONE_ENTRY, ROUND_AT, -3L)).hasMessageContaining("negative round -3");
        assertDecodeFails(encodeWith(ONE_ENTRY, ENTRY_INDEX_AT, -10L)).hasMessageContaining("negative entry 0 index -10");
    }

    @Test
    void wrapsRecordConstructorRejections() {
        // An entry at index 0 passes the wire checks but not LogEntry's.
        assertDecodeFails(encodeWith(append(0, new LogEntry(1, 1, EntryType.NOOP, Bytes.EMPTY)), ENTRY_INDEX_AT, 0L))
                .hasMessageContaining("invalid entry 0").hasMessageContaining("start at 1")
                .hasCauseInstanceOf(IllegalArgumentException.class);
        // An entry that does not follow prevLogIndex passes LogEntry's checks but not AppendEntries'.
        assertDecodeFails(encodeWith(ONE_ENTRY, ENTRY_INDEX_AT, 12L))
                .hasMessageContaining("invalid APPEND_ENTRIES").hasMessageContaining("contiguously")
                .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsInputOverTheMaximumBeforeReadingIt() {
        byte[] bytes = codec.encode(ONE_ENTRY);
        MessageCodec small = new MessageCodec(bytes.length - 1);

        assertDecodeFails(small, bytes)
                .hasMessage("message of " + bytes.length + " bytes exceeds the maximum of " + (bytes.length - 1) + " bytes");
        assertThat(new MessageCodec(bytes.length).decode(ByteBuffer.wrap(bytes))).isEqualTo(ONE_ENTRY);
    }

    @ParameterizedTest
    @MethodSource("samples")
    void everyStrictPrefixIsRejectedAsTruncated(Message m) {
        byte[] bytes = codec.encode(m);
        for (int length = 0; length < bytes.length; length++) {
            byte[] prefix = Arrays.copyOf(bytes, length);
            ByteBuffer in = ByteBuffer.wrap(prefix);
            int prefixLength = length;
            assertThatThrownBy(() -> codec.decode(in))
                    .as("prefix of %d of %d bytes", prefixLength, bytes.length)
                    .isInstanceOf(MessageFormatException.class)
                    .message().satisfiesAnyOf(
                            msg -> assertThat(msg).startsWith("truncated input"),
                            msg -> assertThat(msg).contains("bytes remaining")); // a length or count past the end
        }
    }

    // ---- fuzzing ---------------------------------------------------------------------------

    private static final int FUZZ_ITERATIONS = 20_000;

    /**
     * Corrupts valid encodings at random: decoding must either succeed or throw
     * {@link MessageFormatException}. Since the format has one encoding per message, a successful
     * decode must also re-encode to exactly the input. Rerun a failure with {@code -Dcodec.fuzz.seed=N}.
     */
    @Test
    void corruptInputFailsOnlyWithMessageFormatException() {
        long seed = Long.getLong("codec.fuzz.seed", System.nanoTime());
        System.out.println("MessageCodecTest fuzz seed: " + seed + " (rerun with -Dcodec.fuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        List<byte[]> valid = samples().stream().map(codec::encode).toList();
        int decoded = 0;

        for (int i = 0; i < FUZZ_ITERATIONS; i++) {
            byte[] input = valid.get(random.nextInt(valid.size()));
            int mutations = 1 + random.nextInt(4);
            for (int j = 0; j < mutations; j++) {
                input = mutate(input, random);
            }
            try {
                Message m = codec.decode(ByteBuffer.wrap(input));
                decoded++;
                assertThat(codec.encode(m)).as("seed %d, iteration %d: re-encoding of %s", seed, i, m).isEqualTo(input);
            } catch (MessageFormatException expected) {
                assertThat(expected.getMessage()).as("seed %d, iteration %d", seed, i).isNotBlank();
            } catch (Throwable t) {
                fail("seed " + seed + ", iteration " + i + ": decoding 0x" + hex(input) + " threw " + t, t);
            }
        }
        System.out.println("MessageCodecTest fuzz: " + decoded + " of " + FUZZ_ITERATIONS + " mutated inputs still decoded");
    }

    private static byte[] mutate(byte[] input, Random random) {
        int at = input.length == 0 ? 0 : random.nextInt(input.length);
        switch (random.nextInt(6)) {
            case 0 -> { // flip one bit
                if (input.length > 0) {
                    input = input.clone();
                    input[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> { // overwrite one byte
                if (input.length > 0) {
                    input = input.clone();
                    input[at] = (byte) random.nextInt(256);
                }
            }
            case 2 -> { // insert a byte
                byte[] longer = new byte[input.length + 1];
                System.arraycopy(input, 0, longer, 0, at);
                longer[at] = (byte) random.nextInt(256);
                System.arraycopy(input, at, longer, at + 1, input.length - at);
                input = longer;
            }
            case 3 -> { // delete a byte
                if (input.length > 0) {
                    byte[] shorter = new byte[input.length - 1];
                    System.arraycopy(input, 0, shorter, 0, at);
                    System.arraycopy(input, at + 1, shorter, at, input.length - at - 1);
                    input = shorter;
                }
            }
            case 4 -> { // write an extreme int, as a corrupt length or count would be
                if (input.length >= 4) {
                    int[] extremes = {Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 0, 1 << 30, random.nextInt()};
                    input = input.clone();
                    ByteBuffer.wrap(input).putInt(random.nextInt(input.length - 3), extremes[random.nextInt(extremes.length)]);
                }
            }
            default -> { // replace everything with random bytes
                byte[] noise = new byte[random.nextInt(2 * input.length + 2)];
                random.nextBytes(noise);
                if (noise.length > 1 && random.nextBoolean()) {
                    noise[0] = MessageCodec.VERSION; // get past the version check more often
                    noise[1] = (byte) (1 + random.nextInt(Message.Kind.values().length));
                }
                input = noise;
            }
        }
        return input;
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
