package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Domain and checkpoint names as file names in a repository: libvirt's domain grammar allows any
 * name without a newline ({@code objectNameWithSlash}: {@code [^\n]+}), so the encoding must be
 * reversible, collision-free, never a path separator, never hidden, never {@code .} or {@code ..}.
 */
class RepositoryNamesTest {
  @TempDir Path dir;

  @Test
  void namesThatAreFileNamesStayAsTheyAre() {
    for (String n : List.of("sample", "vm-1", "cp_2.b", "a.b.", "écrit", "名前", "a\\b", "a b", "~x", "..a".substring(1))) {
      if (!n.startsWith(".")) {
        assertEquals(n, Repository.fileName(n));
      }
    }
  }

  @Test
  void theDocumentedEncodings() {
    assertEquals("a%2Fb", Repository.fileName("a/b"));
    assertEquals("%2Ehidden", Repository.fileName(".hidden"));
    assertEquals("%2E", Repository.fileName("."));
    assertEquals("%2E.", Repository.fileName(".."));
    assertEquals("%2E.%2F..%2Fetc", Repository.fileName("../../etc"));
    assertEquals("100%25", Repository.fileName("100%"));
    assertEquals("a%09b%1B%7F", Repository.fileName("a\tb\u001b\u007f"));
    assertEquals("a.b", Repository.fileName("a.b"));
  }

  @Test
  void fileNamesNoNameWritesAreNoName() {
    for (String f : List.of(".hidden", ".", "..", "a%2", "a%", "a%zz", "%41", "a%2fb", "%2E%2E", "")) {
      assertEquals(Optional.empty(), Repository.nameOf(f), f);
    }
  }

  static LongStream seeds() {
    return LongStream.range(1, 21);
  }

  /** Random names over an alphabet rich in the characters that need escaping. */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void theEncodingIsReversibleAndCollisionFree(long seed) {
    Random r = new Random(seed);
    char[] alphabet = {'a', 'B', '.', '/', '%', '2', 'F', 'E', '\t', '\u001b', '\u007f', '\u0000', 'é', '\\', ' ', '-'};
    Map<String, String> byFile = new HashMap<>();
    for (int i = 0; i < 2000; i++) {
      StringBuilder b = new StringBuilder();
      int length = 1 + r.nextInt(6);
      for (int j = 0; j < length; j++) {
        b.append(alphabet[r.nextInt(alphabet.length)]);
      }
      String name = b.toString();
      String file = Repository.fileName(name);
      assertEquals(Optional.of(name), Repository.nameOf(file), name);
      assertFalse(file.contains("/") || file.startsWith(".") || file.isEmpty(), file);
      assertTrue(file.chars().noneMatch(c -> c < 0x20 || c == 0x7f), file);
      String earlier = byFile.putIfAbsent(file, name);
      assertTrue(earlier == null || earlier.equals(name), "'" + earlier + "' and '" + name + "' share " + file);
    }
  }

  @Test
  void domainFoldersAreListedByTheirNames() throws Exception {
    Repository repo = Repository.at(dir);
    for (String d : List.of("a/b", ".hidden", "plain", "50%", "../up")) {
      Path archive = repo.newArchivePath(d, "cp1");
      assertEquals(dir, archive.getParent().getParent(), "inside the repository: " + archive);
      Files.writeString(archive, "x");
    }
    Files.createDirectories(dir.resolve(".lock-or-other-hidden"));
    Files.createDirectories(dir.resolve("stray%"));
    assertEquals(List.of("../up", ".hidden", "50%", "a/b", "plain"), repo.domains());
    assertTrue(Files.isRegularFile(dir.resolve("a%2Fb").resolve("cp1.tar")));
    assertTrue(Files.isRegularFile(dir.resolve("%2Ehidden").resolve("cp1.tar")));
    assertTrue(Files.isRegularFile(dir.resolve("%2E.%2Fup").resolve("cp1.tar")));
    assertEquals(dir.resolve("a%2Fb"), repo.domainDir("a/b"));
    assertTrue(repo.newArchivePath("a/b", "x/y").endsWith(Path.of("a%2Fb", "x%2Fy.tar")));
    assertTrue(repo.newArchivePath("a/b", ".dot").endsWith(Path.of("a%2Fb", "%2Edot.tar")));
  }
}
