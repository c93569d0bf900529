package org.tidemark.bench;

import com.thaiopensource.util.PropertyMapBuilder;
import com.thaiopensource.validate.ValidationDriver;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.tidemark.model.Checkpoint;
import org.tidemark.xml.CheckpointXml;
import org.tidemark.xml.DomainGrammar;
import org.xml.sax.InputSource;

/**
 * Parsing a checkpoint with an embedded domain (safe parse + Jing validation + model, one pass)
 * against Jing validation alone of the same bytes, each with its grammar: the default parse (with
 * libvirt's domain.rng) against Jing with libvirt's domaincheckpoint.rng, the built-in parse
 * against Jing with Tidemark's grammar. Goal: at most 1.5x the baseline.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(3)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CheckpointXmlBenchmark {
  static final String DOC = """
      <domaincheckpoint>
        <name>nightly-2026-11-24</name>
        <description>nightly backup</description>
        <parent>
          <name>nightly-2026-11-23</name>
        </parent>
        <creationTime>1795500000</creationTime>
        <disks>
          <disk name='vda' checkpoint='bitmap' bitmap='nightly-2026-11-24'/>
          <disk name='vdb' checkpoint='bitmap' bitmap='nightly-2026-11-24'/>
          <disk name='sda' checkpoint='no'/>
        </disks>
        <domain type='kvm'>
          <name>web01</name>
          <uuid>5c6d7e8f-0a1b-4c2d-9e3f-405162738495</uuid>
          <memory unit='KiB'>4194304</memory>
          <currentMemory unit='KiB'>4194304</currentMemory>
          <vcpu placement='static'>2</vcpu>
          <os>
            <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
            <boot dev='hd'/>
          </os>
          <features>
            <acpi/>
            <apic/>
          </features>
          <cpu mode='host-passthrough' check='none' migratable='on'/>
          <clock offset='utc'/>
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>restart</on_reboot>
          <on_crash>destroy</on_crash>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' discard='unmap'/>
              <source file='/var/lib/libvirt/images/web01-vda.qcow2'/>
              <target dev='vda' bus='virtio'/>
              <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
            </disk>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='/var/lib/libvirt/images/web01-vdb.qcow2'/>
              <target dev='vdb' bus='virtio'/>
              <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
            </disk>
            <disk type='file' device='cdrom'>
              <driver name='qemu' type='raw'/>
              <target dev='sda' bus='sata'/>
              <readonly/>
              <address type='drive' controller='0' bus='0' target='0' unit='0'/>
            </disk>
            <interface type='network'>
              <mac address='52:54:00:6b:3c:58'/>
              <source network='default'/>
              <model type='virtio'/>
              <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
            </interface>
            <serial type='pty'>
              <target type='isa-serial' port='0'>
                <model name='isa-serial'/>
              </target>
            </serial>
            <memballoon model='virtio'>
              <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
            </memballoon>
          </devices>
        </domain>
      </domaincheckpoint>
      """;

  byte[] bytes;
  ValidationDriver jingTidemark;
  ValidationDriver jingLibvirt;
  DomainGrammar libvirtDomain;

  @Setup
  public void setup() throws Exception {
    bytes = DOC.getBytes(StandardCharsets.UTF_8);
    jingTidemark = new ValidationDriver(new PropertyMapBuilder().toPropertyMap());
    InputSource grammar = new InputSource(CheckpointXml.class.getResourceAsStream("domaincheckpoint.rng"));
    grammar.setSystemId("tidemark:domaincheckpoint.rng");
    if (!jingTidemark.loadSchema(grammar)) {
      throw new IllegalStateException("Tidemark's grammar did not load");
    }
    Path schemas = Path.of(DomainGrammar.DEFAULT_DIRECTORY);
    jingLibvirt = new ValidationDriver(new PropertyMapBuilder().toPropertyMap());
    if (!jingLibvirt.loadSchema(new InputSource(schemas.resolve("domaincheckpoint.rng").toUri().toString()))) {
      throw new IllegalStateException("libvirt's domaincheckpoint.rng did not load (install libvirt0)");
    }
    libvirtDomain = DomainGrammar.directory(schemas);
    if (!jingTidemarkGrammar() || !jingLibvirtGrammar()) {
      throw new IllegalStateException("the benchmark document is not valid");
    }
    parseWithLibvirtDomainGrammar();
  }

  /** The default parse: Tidemark's grammar plus libvirt's domain.rng for the domain, and the model. */
  @Benchmark
  public Checkpoint parseWithLibvirtDomainGrammar() throws Exception {
    return CheckpointXml.parse(bytes, "bench.xml", Set.of(), libvirtDomain);
  }

  /** Baseline of the default parse: Jing with libvirt's own domaincheckpoint.rng (which includes domain.rng). */
  @Benchmark
  public boolean jingLibvirtGrammar() throws Exception {
    return jingLibvirt.validate(new InputSource(new ByteArrayInputStream(bytes)));
  }

  /** The parse where libvirt's schemas are absent: Tidemark's grammar only, and the model. */
  @Benchmark
  public Checkpoint parseWithBuiltInDomainGrammar() throws Exception {
    return CheckpointXml.parse(bytes, "bench.xml", Set.of(), DomainGrammar.builtIn());
  }

  /** Baseline of the built-in parse: Jing alone with the same grammar. */
  @Benchmark
  public boolean jingTidemarkGrammar() throws Exception {
    return jingTidemark.validate(new InputSource(new ByteArrayInputStream(bytes)));
  }
}
