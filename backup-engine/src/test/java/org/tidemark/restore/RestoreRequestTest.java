package org.tidemark.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The restore request builder: its defaults, each setter, and the checks of its arguments. */
class RestoreRequestTest {
  @Test
  void defaultsAreTheNewestBackupOfEveryDiskAsRawUnderTheDomainsName() {
    assertEquals(new RestoreRequest("vm1", Optional.empty(), Optional.empty(), ImageFormat.RAW, Optional.empty()),
        RestoreRequest.builder("vm1").build());
  }

  @Test
  void eachSetterReplacesItsDefault() {
    RestoreRequest r = RestoreRequest.builder("vm1").checkpoint("cp2").disk("vdb").format(ImageFormat.QCOW2)
        .newName("vm1-copy").build();
    assertEquals(new RestoreRequest("vm1", Optional.of("cp2"), Optional.of("vdb"), ImageFormat.QCOW2,
        Optional.of("vm1-copy")), r);
    RestoreRequest back = RestoreRequest.builder("vm1").checkpoint("cp2").checkpoint(Optional.empty())
        .disk(Optional.of("vda")).newName(Optional.empty()).build();
    assertEquals(new RestoreRequest("vm1", Optional.empty(), Optional.of("vda"), ImageFormat.RAW, Optional.empty()),
        back);
  }

  @Test
  void nullIsRefusedByName() {
    assertEquals("domain", assertThrows(NullPointerException.class, () -> RestoreRequest.builder(null)).getMessage());
    assertEquals("format", assertThrows(NullPointerException.class,
        () -> RestoreRequest.builder("vm1").format(null)).getMessage());
    assertThrows(NullPointerException.class, () -> RestoreRequest.builder("vm1").checkpoint((String) null));
    assertEquals("disk", assertThrows(NullPointerException.class,
        () -> RestoreRequest.builder("vm1").disk((Optional<String>) null)).getMessage());
  }
}
