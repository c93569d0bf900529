package org.tidemark.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.Virsh;

/**
 * CREATE mode against libvirt: each input is given to {@code virsh checkpoint-create} (no
 * --redefine) on the test driver after a first checkpoint {@code base}, and dumped; Tidemark's
 * {@code parseCreate} with the same domain, creation time and parent must give the same document,
 * and refuse what virsh refuses.
 */
class CheckpointCreateVirshTest {
  @TempDir static Path dir;
  static DomainDefinition testDomain;

  @BeforeAll
  static void domainFromLibvirt() throws Exception {
    String doc = Virsh.run(dir, List.of("checkpoint-create-as test base", "checkpoint-dumpxml test base")).get(1).output();
    testDomain = CheckpointXml.parse((doc + "\n").getBytes(StandardCharsets.UTF_8), "base", Set.of()).domain().orElseThrow();
  }

  static Stream<Arguments> cases() {
    List<Arguments> a = new ArrayList<>();
    a.add(Arguments.of("no disks: all tracked", "<domaincheckpoint><name>c1</name><description>nightly</description></domaincheckpoint>"));
    a.add(Arguments.of("untracked", "<domaincheckpoint><name>c1</name><disks><disk name='vda' checkpoint='no'/></disks></domaincheckpoint>"));
    a.add(Arguments.of("own bitmap name", "<domaincheckpoint><name>c1</name><disks><disk name='vda' bitmap='custom'/></disks></domaincheckpoint>"));
    a.add(Arguments.of("by source path", "<domaincheckpoint><name>c1</name><disks><disk name='/guest/diskimage1'/></disks></domaincheckpoint>"));
    a.add(Arguments.of("parent and time ignored", "<domaincheckpoint><name>c1</name><parent><name>zzz</name></parent>"
        + "<creationTime>5</creationTime></domaincheckpoint>"));
    a.add(Arguments.of("unknown disk", "<domaincheckpoint><name>c1</name><disks><disk name='vdq'/></disks></domaincheckpoint>"));
    a.add(Arguments.of("twice", "<domaincheckpoint><name>c1</name><disks><disk name='vda'/><disk name='vda'/></disks></domaincheckpoint>"));
    a.add(Arguments.of("default name", "<domaincheckpoint><description>x</description></domaincheckpoint>"));
    return a.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void createAsLibvirtDoes(String label, String input) throws Exception {
    Path file = dir.resolve(label.replaceAll("[^a-z]", "_") + ".xml");
    Files.writeString(file, input);
    List<Virsh.Reply> r = Virsh.run(dir, List.of("checkpoint-create-as test base", "checkpoint-create test " + file,
        "checkpoint-list test --name"));
    boolean accepted = !r.get(1).failed();
    String created = r.get(2).output().lines().filter(n -> !n.equals("base")).findFirst().orElse(null);
    if (!accepted) {
      org.junit.jupiter.api.Assertions.assertThrows(CheckpointXmlException.class, () -> CheckpointXml.parseCreate(
          input.getBytes(StandardCharsets.UTF_8), file.toString(), testDomain, 1), label + ": virsh said " + r.get(1).output());
      return;
    }
    // a default name is the creation time: ask for the few seconds around now, in the same process
    long now = System.currentTimeMillis() / 1000;
    List<String> cmds = new ArrayList<>(List.of("checkpoint-create-as test base", "checkpoint-create test " + file));
    List<String> names = created.matches("\\d+") ? List.of(Long.toString(now), Long.toString(now + 1),
        Long.toString(now + 2), Long.toString(now + 3)) : List.of(created);
    names.forEach(n -> cmds.add("checkpoint-dumpxml test " + n));
    String dumped = Virsh.run(dir, cmds).stream().skip(2).filter(x -> !x.failed()).findFirst().orElseThrow().output();
    long time = Long.parseLong(dumped.replaceAll("(?s).*<creationTime>(\\d+)</creationTime>.*", "$1"));
    Checkpoint ours = CheckpointXml.parseCreate(input.getBytes(StandardCharsets.UTF_8), file.toString(), testDomain, time)
        .withParentName(java.util.Optional.of("base"));
    assertEquals(dumped + "\n", CheckpointXml.format(ours), label);
  }
}
