package org.tidemark.libvirt;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real libvirtd with the QEMU driver for the live tests, started once per test JVM and stopped
 * (its domains destroyed) when the JVM exits. It runs as root in a private mount namespace
 * ({@code libvirtd-sandbox.sh}) with its own configuration, sockets and state in a temporary
 * folder, so the host's libvirt is left alone. Needs root, {@code unshare}, libvirtd with the QEMU
 * driver, qemu-system-x86 and a {@code libvirt-qemu} user: the test script ({@code test.sh})
 * installs them. A missing piece fails the test, naming it; nothing is skipped.
 */
public final class LibvirtSandbox {
  private static LibvirtSandbox shared;

  private final Path dir;
  private final Process daemon;
  private final String domainType;

  private LibvirtSandbox(Path dir, Process daemon, String domainType) {
    this.dir = dir;
    this.daemon = daemon;
    this.domainType = domainType;
  }

  /** The sandbox of this test JVM, started on first use. */
  public static synchronized LibvirtSandbox shared() throws Exception {
    if (shared == null) {
      shared = start();
      LibvirtSandbox s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "libvirtd-sandbox-stop"));
    }
    return shared;
  }

  private static LibvirtSandbox start() throws Exception {
    if (!"root".equals(System.getProperty("user.name"))) {
      fail("the live tests run a libvirtd and QEMU domains and need root (run them through test.sh as root)");
    }
    for (String tool : List.of("libvirtd", "unshare", "taskset", "virsh", "qemu-system-x86_64")) {
      if (run(List.of("sh", "-c", "command -v " + tool), 30).exit() != 0) {
        fail(tool + " is missing: test.sh installs libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients and "
            + "qemu-system-x86");
      }
    }
    if (run(List.of("id", "libvirt-qemu"), 30).exit() != 0) {
      fail("libvirtd needs a libvirt-qemu user (test.sh creates it)");
    }
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "tm-lvd");
    Path etc = Files.createDirectories(dir.resolve("etc"));
    Files.writeString(etc.resolve("qemu.conf"), String.join("\n",
        "user = \"root\"", "group = \"root\"", "stdio_handler = \"file\"", "cgroup_controllers = [ ]",
        "security_driver = \"none\"", "namespaces = [ ]", "dynamic_ownership = 0", "remember_owner = 0", ""));
    Files.writeString(etc.resolve("libvirtd.conf"), String.join("\n",
        "unix_sock_group = \"root\"", "unix_sock_rw_perms = \"0770\"", "auth_unix_rw = \"none\"", "auth_unix_ro = \"none\"",
        "log_outputs = \"3:file:" + dir.resolve("log/libvirtd.log") + "\"", ""));
    for (String d : List.of("/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt")) {
      Files.createDirectories(Path.of(d)); // mount points of the namespace
    }
    Path script = dir.resolve("libvirtd-sandbox.sh");
    try (InputStream in = LibvirtSandbox.class.getResourceAsStream("libvirtd-sandbox.sh")) {
      Files.copy(in, script);
    }
    Process daemon = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", script.toString(),
        dir.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("daemon.out").toFile()).start();
    String domainType = Files.isWritable(Path.of("/dev/kvm")) ? "kvm" : "qemu";
    LibvirtSandbox s = new LibvirtSandbox(dir, daemon, domainType);
    Path socket = dir.resolve("run/libvirt-sock");
    for (int i = 0; i < 600 && !Files.exists(socket); i++) {
      if (!daemon.isAlive()) {
        fail("libvirtd exited: " + Files.readString(dir.resolve("daemon.out")));
      }
      Thread.sleep(50);
    }
    s.virsh("version"); // waits for the QEMU capabilities (seconds when the cache is cold)
    return s;
  }

  /** The connection URI of this daemon. */
  public String uri() {
    return "qemu:///system?socket=" + dir.resolve("run/libvirt-sock");
  }

  /** {@code kvm} when /dev/kvm is usable, else {@code qemu} (TCG). */
  public String domainType() {
    return domainType;
  }

  /** Runs virsh against this daemon; fails the test on a non-zero exit. Returns stdout. */
  public String virsh(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("virsh", "-c", uri()));
    cmd.addAll(List.of(args));
    Result r = run(cmd, 120);
    if (r.exit() != 0) {
      fail(String.join(" ", cmd) + " failed (" + r.exit() + "): " + r.output());
    }
    return r.output();
  }

  /**
   * A guest write without a guest OS: QEMU's qemu-io on the N-th virtio disk's backend, through
   * the monitor. virsh exits 0 even when the command fails; the reply is empty on success.
   */
  public void guestWrite(String domain, int diskIndex, String qemuIoCommand) throws Exception {
    String reply = virsh("qemu-monitor-command", domain, "--hmp",
        "qemu-io -d /machine/peripheral/virtio-disk" + diskIndex + "/virtio-backend \"" + qemuIoCommand + "\"");
    if (!reply.isBlank()) {
      fail("qemu-io '" + qemuIoCommand + "' in " + domain + ": " + reply);
    }
  }

  /**
   * Defines and starts a domain of {@link #domainXml} named {@code prefix} and this JVM's PID, with
   * its XML written into {@code dir}; returns its name. {@link #removeDomain} removes it.
   */
  public String startDomain(String prefix, List<Path> disks, Path dir) throws Exception {
    String name = prefix + ProcessHandle.current().pid();
    Path xml = Files.writeString(dir.resolve(name + ".xml"), domainXml(name, disks));
    virsh("define", xml.toString());
    virsh("start", name);
    return name;
  }

  /** Stops and undefines a domain, its checkpoints' metadata included; for a test's finally block. */
  public void removeDomain(String name) throws Exception {
    run(List.of("virsh", "-c", uri(), "destroy", name), 60);
    run(List.of("virsh", "-c", uri(), "undefine", name, "--checkpoints-metadata"), 60);
  }

  /**
   * A domain XML with no OS, 64 MiB, one vCPU, ACPI (for disk hot-plug), the given qcow2 disks (vda,
   * vdb, ...), no network.
   */
  public String domainXml(String name, List<Path> disks) {
    StringBuilder b = new StringBuilder("<domain type='" + domainType + "'>\n  <name>" + name + "</name>\n"
        + "  <memory unit='MiB'>64</memory>\n  <vcpu>1</vcpu>\n"
        + "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
        + "  <features><acpi/></features>\n  <devices>\n"); // ACPI: disks can be hot-plugged (attach-disk)
    for (int i = 0; i < disks.size(); i++) {
      b.append("    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='")
          .append(disks.get(i)).append("'/><target dev='vd").append((char) ('a' + i)).append("' bus='virtio'/></disk>\n");
    }
    b.append("    <serial type='pty'/>\n    <memballoon model='none'/>\n  </devices>\n</domain>\n");
    return b.toString();
  }

  private void stop() {
    try {
      for (String d : run(List.of("virsh", "-c", uri(), "list", "--name"), 60).output().split("\n")) {
        if (!d.isBlank()) {
          run(List.of("virsh", "-c", uri(), "destroy", d.strip()), 60);
        }
      }
    } catch (Exception e) {
      // stopping anyway
    }
    daemon.destroy();
    try {
      daemon.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public record Result(int exit, String output) {}

  public static Result run(List<String> cmd, int seconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(String.join(" ", cmd) + " timed out");
    }
    return new Result(p.exitValue(), out);
  }
}
