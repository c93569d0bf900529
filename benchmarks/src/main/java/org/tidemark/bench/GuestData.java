package org.tidemark.bench;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Seeded guest data for the codec benchmarks, by kind. {@link Kind#WORDS} is the text-like data of
 * {@code e2e-bench.sh} before 2026-12-05 (words drawn uniformly from 4096 pseudo-words of uniformly
 * drawn letters); {@link Kind#TEXT} is the realistic text the bench makes since: half log lines
 * (syslog-style, from eight message templates with timestamps, host, process ids, addresses and
 * counters), half prose whose words follow Zipf's law over the same kind of vocabulary, as words of
 * a natural language do.
 */
public final class GuestData {
  /** What a chunk holds. */
  public enum Kind {
    /** Uniformly random bytes: compressed or encrypted files. */
    RANDOM,
    /** Words drawn uniformly from a 4096-word vocabulary (the first bench's text). */
    WORDS,
    /** Log lines and Zipf-distributed prose, half each by 64 KiB blocks. */
    TEXT,
    /** All zeroes: allocated clusters a guest zeroed. */
    ZERO
  }

  private static final String LETTERS = "etaoinshrdlucmfwypvbgkjqxz";
  private GuestData() {}

  /** {@code size} bytes of the given kind from the seed. */
  static byte[] make(Kind kind, int size, long seed) {
    Random r = new Random(seed);
    byte[] out = new byte[size];
    switch (kind) {
      case RANDOM -> r.nextBytes(out);
      case ZERO -> { }
      case WORDS -> fill(out, 0, size, wordsText(r, vocabulary(r), size, false));
      case TEXT -> {
        String[] vocab = vocabulary(r);
        for (int off = 0, block = 0; off < size; off += 65536, block++) {
          int n = Math.min(65536, size - off);
          fill(out, off, n, block % 2 == 0 ? logText(r, vocab, n) : wordsText(r, vocab, n, true));
        }
      }
    }
    return out;
  }

  private static void fill(byte[] out, int off, int n, String text) {
    byte[] b = text.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, out, off, n);
  }

  private static String[] vocabulary(Random r) {
    String[] vocab = new String[4096];
    for (int i = 0; i < vocab.length; i++) {
      StringBuilder w = new StringBuilder();
      for (int k = 2 + r.nextInt(9); k > 0; k--) {
        w.append(LETTERS.charAt(r.nextInt(LETTERS.length())));
      }
      vocab[i] = w.toString();
    }
    return vocab;
  }

  /** Lines of 4-14 words; {@code zipf}: word i drawn with weight 1/(i+1), else uniformly. */
  private static String wordsText(Random r, String[] vocab, int n, boolean zipf) {
    double[] cumulative = new double[vocab.length];
    double sum = 0;
    for (int i = 0; i < vocab.length; i++) {
      sum += zipf ? 1.0 / (i + 1) : 1.0;
      cumulative[i] = sum;
    }
    StringBuilder s = new StringBuilder(n + 256);
    while (s.length() < n) {
      for (int k = 4 + r.nextInt(11); k > 0; k--) {
        int i = java.util.Arrays.binarySearch(cumulative, r.nextDouble() * sum);
        s.append(vocab[i < 0 ? Math.min(-i - 1, vocab.length - 1) : i]).append(k > 1 ? " " : ".\n");
      }
    }
    return s.toString();
  }

  private static String logText(Random r, String[] vocab, int n) {
    StringBuilder s = new StringBuilder(n + 512);
    long t = 1_764_900_000L + r.nextInt(1_000_000);
    while (s.length() < n) {
      t += r.nextInt(3);
      String head = String.format("2026-12-%02dT%02d:%02d:%02d.%06d+00:00 web-%02d ", 1 + (t / 86400) % 28,
          (t / 3600) % 24, (t / 60) % 60, t % 60, r.nextInt(1_000_000), r.nextInt(4));
      String user = vocab[r.nextInt(64)];
      int pid = 1000 + r.nextInt(60000);
      s.append(head).append(switch (r.nextInt(8)) {
        case 0 -> String.format("sshd[%d]: Accepted publickey for %s from 10.%d.%d.%d port %d ssh2", pid, user,
            r.nextInt(256), r.nextInt(256), r.nextInt(256), 1024 + r.nextInt(64000));
        case 1 -> String.format("sshd[%d]: pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)",
            pid, user, 1000 + r.nextInt(100));
        case 2 -> String.format("systemd[1]: Started Session %d of User %s.", r.nextInt(5000), user);
        case 3 -> String.format("systemd[1]: %s.service: Deactivated successfully.", user);
        case 4 -> String.format("kernel: [%d.%06d] EXT4-fs (vda%d): mounted filesystem with ordered data mode.",
            r.nextInt(900000), r.nextInt(1_000_000), 1 + r.nextInt(3));
        case 5 -> String.format("CRON[%d]: (%s) CMD (/usr/local/bin/rotate --keep %d /var/log/%s)", pid, user,
            r.nextInt(30), vocab[r.nextInt(64)]);
        case 6 -> String.format("nginx[%d]: 10.%d.%d.%d - - \"GET /api/v1/items/%d HTTP/1.1\" %d %d \"-\" \"curl/7.%d.0\"",
            pid, r.nextInt(256), r.nextInt(256), r.nextInt(256), r.nextInt(100000), r.nextInt(10) == 0 ? 404 : 200,
            r.nextInt(20000), 60 + r.nextInt(30));
        default -> String.format("postgres[%d]: LOG:  checkpoint complete: wrote %d buffers (%d.%d%%); %d WAL file(s) added",
            pid, r.nextInt(5000), r.nextInt(100), r.nextInt(10), r.nextInt(4));
      }).append('\n');
    }
    return s.toString();
  }
}
