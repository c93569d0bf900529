package org.tidemark.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.image.Images;

/**
 * Every disk source answers for its bitmaps itself: {@code bitmap(name)} has no default (a
 * wrapper that forgot to forward it once turned incrementals into fulls), and a raw image says
 * MISSING explicitly.
 */
class DiskSourceBitmapTest {
  @TempDir Path dir;

  @Test
  void bitmapHasNoDefault() throws Exception {
    Method m = DiskSource.class.getMethod("bitmap", String.class);
    assertFalse(m.isDefault(), "DiskSource.bitmap must be implemented by every source");
    assertTrue(Modifier.isAbstract(m.getModifiers()));
  }

  @Test
  void aRawImageHasNoBitmaps() throws Exception {
    Path raw = dir.resolve("d.raw");
    Files.write(raw, new byte[65536]);
    try (DiskSource d = Images.open(raw, Optional.of("raw"))) {
      assertEquals(BitmapState.MISSING, d.bitmap("cp1"));
      assertEquals(RawImage.class, d.getClass().getDeclaredMethod("bitmap", String.class).getDeclaringClass());
    }
  }
}
