package io.flotilla.core.protocol;

import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.message.InstallSnapshot;
import java.util.zip.CRC32C;

/**
 * A follower's side of a snapshot transfer (Raft §7): accepts the chunks of one snapshot in order,
 * and never lets one be installed whose bytes do not match the checksum every chunk announces
 * (another snapshot under the same label, or damage on the way): it then starts over from offset 0.
 */
final class SnapshotReceiver {
    /** Whether to hand the chunk on to be written, and the offset to tell the leader it expects next. */
    record Verdict(boolean accepted, long nextOffset) {
    }

    private SnapshotMeta incoming;
    private long offset;
    private final CRC32C crc = new CRC32C();
    private int checksum;

    Verdict receive(InstallSnapshot m) {
        if (!m.meta().equals(incoming)) {
            if (m.offset() != 0) {
                return new Verdict(false, 0);
            }
            incoming = m.meta();
            offset = 0;
        }
        if (m.offset() != offset) {
            return new Verdict(false, offset);
        }
        if (m.offset() == 0) {
            crc.reset();
            checksum = m.checksum();
        }
        crc.update(m.chunk().unsafeArray());
        if (m.checksum() != checksum || m.done() && (int) crc.getValue() != checksum) {
            reset();
            return new Verdict(false, 0);
        }
        offset += m.chunk().length();
        return new Verdict(true, offset);
    }

    /** Forgets the snapshot being received (it was installed, or is abandoned). */
    void reset() {
        incoming = null;
        offset = 0;
    }
}
