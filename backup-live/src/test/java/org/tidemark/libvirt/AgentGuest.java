package org.tidemark.libvirt;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tiny Linux guest running qemu-guest-agent, as a domain of a {@link LibvirtSandbox}: for the
 * tests of freezing through a real agent ({@code --quiesce}). The kernel, the initramfs (busybox,
 * the virtio modules, qemu-ga) and an ext4 data disk are built once per set of Debian package
 * versions by {@code backup-live/src/test/guest/make-agent-guest.sh} into {@code
 * backup-live/target/agent-guest} (test.sh runs it first; this class runs it when the guest is
 * missing). The script's header says what the guest does: it mounts the data disk ({@code vda})
 * on /mnt, writes {@code /mnt/marker} without syncing, and runs {@code qemu-ga -v} with its log on
 * the serial console, which the domain writes into {@link #consoleLog()}.
 *
 * <p>The domain boots the kernel directly ({@code <os><kernel/><initrd/><cmdline/>}), has the
 * agent's virtio-serial channel {@code org.qemu.guest_agent.0}, 128 MiB and one vCPU. It runs with
 * KVM when the sandbox offers KVM and a Linux kernel gets past its setup code under it; some nested
 * KVM hosts (a Firecracker VM, for one) run the no-OS test domains but hang a Linux kernel right
 * after its setup code, and there the guest is booted again with TCG (and at once by later test
 * JVMs on the same host, kernel and QEMU). A guest whose agent does not answer in time fails the
 * test, with the console's last lines.
 */
public final class AgentGuest implements AutoCloseable {
  private static final String SCRIPT = "backup-live/src/test/guest/make-agent-guest.sh";
  /** How long the agent may take to answer after the domain starts (TCG boots in about 5 s). */
  private static final long AGENT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(120);
  /** How long a KVM boot may take to print the kernel's banner before TCG is used instead. */
  private static final long KVM_BANNER_NANOS = TimeUnit.SECONDS.toNanos(5);
  /**
   * Beside the guests: the host (kernel release, CPU model, QEMU version) on which a Linux kernel
   * hung under KVM, so that later test JVMs there boot with TCG at once.
   */
  private static final String KVM_HANGS_FILE = "kvm-hangs-linux.txt";
  private static Path built;
  /** Whether a Linux kernel boots under this sandbox's KVM; null until a guest tried. */
  private static Boolean kvmBootsLinux;

  private final LibvirtSandbox libvirt;
  private final String name;
  private final Path disk;
  private final Path console;
  private final String domainType;

  private AgentGuest(LibvirtSandbox libvirt, String name, Path disk, Path console, String domainType) {
    this.libvirt = libvirt;
    this.name = name;
    this.disk = disk;
    this.console = console;
    this.domainType = domainType;
  }

  /** The guest's files (vmlinuz, initrd.cpio.gz, data.qcow2), built first when missing. */
  public static synchronized Path files() throws Exception {
    if (built == null) {
      Path root = projectRoot();
      Path log = Files.createDirectories(root.resolve("backup-live/target")).resolve("agent-guest-build.log");
      Process p = new ProcessBuilder("bash", root.resolve(SCRIPT).toString(),
          root.resolve("backup-live/target/agent-guest").toString())
          .redirectError(log.toFile()).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        p.destroyForcibly();
        fail(SCRIPT + " failed: " + Files.readString(log).strip() + " (log: " + log + ")");
      }
      built = Path.of(out.substring(out.lastIndexOf('\n') + 1));
    }
    return built;
  }

  /**
   * Copies the data disk into {@code dir}, defines and starts the guest as a domain named {@code
   * prefix} and this JVM's PID, and waits until its agent answers {@code guest-ping}.
   */
  public static AgentGuest start(LibvirtSandbox libvirt, String prefix, Path dir) throws Exception {
    Path files = files();
    Path disk = dir.resolve("vda.qcow2");
    Files.copy(files.resolve("data.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
    String name = prefix + ProcessHandle.current().pid();
    Path console = dir.resolve("console.log");
    String type = libvirt.domainType();
    synchronized (AgentGuest.class) {
      Path verdict = files.getParent().resolve(KVM_HANGS_FILE);
      String host = hostId();
      if (kvmBootsLinux == null && Files.isRegularFile(verdict) && Files.readString(verdict).equals(host)) {
        kvmBootsLinux = false; // found by an earlier test JVM on this host, kernel and QEMU
      }
      if (type.equals("kvm") && !Boolean.FALSE.equals(kvmBootsLinux)) {
        AgentGuest g = boot(libvirt, name, files, disk, console, dir, "kvm");
        if (Boolean.TRUE.equals(kvmBootsLinux) || g.awaitConsole("Linux version", KVM_BANNER_NANOS)) {
          kvmBootsLinux = true;
          return g.awaitAgent();
        }
        kvmBootsLinux = false;
        System.err.println("AgentGuest: a Linux kernel hangs under this host's KVM (no banner in "
            + TimeUnit.NANOSECONDS.toSeconds(KVM_BANNER_NANOS) + " s: " + g.consoleTail() + "); booting with TCG");
        Files.writeString(verdict, host);
        g.close();
      }
    }
    return boot(libvirt, name, files, disk, console, dir, type.equals("kvm") ? "qemu" : type).awaitAgent();
  }

  /** This host's kernel release, CPU model and QEMU version: what decides whether KVM boots Linux. */
  private static String hostId() throws Exception {
    String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
        .findFirst().orElse("?");
    String qemu = LibvirtSandbox.run(List.of("qemu-system-x86_64", "--version"), 30).output().lines().findFirst()
        .orElse("?");
    return System.getProperty("os.version") + "\n" + cpu + "\n" + qemu + "\n";
  }

  private static AgentGuest boot(LibvirtSandbox libvirt, String name, Path files, Path disk, Path console, Path dir,
      String type) throws Exception {
    Files.deleteIfExists(console);
    String xml = "<domain type='" + type + "'>\n  <name>" + name + "</name>\n"
        + "  <memory unit='MiB'>128</memory>\n  <vcpu>1</vcpu>\n"
        + "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n"
        + "    <kernel>" + files.resolve("vmlinuz") + "</kernel>\n"
        + "    <initrd>" + files.resolve("initrd.cpio.gz") + "</initrd>\n"
        + "    <cmdline>console=ttyS0 loglevel=6 panic=-1</cmdline>\n  </os>\n"
        + "  <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n  <devices>\n"
        + "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='" + disk
        + "'/><target dev='vda' bus='virtio'/></disk>\n"
        + "    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n"
        + "    <serial type='file'><source path='" + console + "'/><target port='0'/></serial>\n"
        + "    <memballoon model='none'/>\n  </devices>\n</domain>\n";
    Path file = Files.writeString(dir.resolve(name + ".xml"), xml);
    libvirt.virsh("define", file.toString());
    libvirt.virsh("start", name);
    return new AgentGuest(libvirt, name, disk, console, type);
  }

  private boolean awaitConsole(String text, long nanos) throws Exception {
    long deadline = System.nanoTime() + nanos;
    while (System.nanoTime() < deadline) {
      if (consoleLog().contains(text)) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  private AgentGuest awaitAgent() throws Exception {
    long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < AGENT_WAIT_NANOS) {
      LibvirtSandbox.Result r = LibvirtSandbox.run(List.of("virsh", "-c", libvirt.uri(), "qemu-agent-command", name,
          "--timeout", "2", "{\"execute\":\"guest-ping\"}"), 30);
      if (r.exit() == 0 && r.output().contains("\"return\"")) {
        System.err.printf("AgentGuest: %s (%s) answers guest-ping after %.1f s%n", name, domainType,
            (System.nanoTime() - t0) / 1e9);
        return this;
      }
      Thread.sleep(200);
    }
    String tail = consoleTail();
    close();
    fail("the guest agent of " + name + " (" + domainType + ") did not answer guest-ping in "
        + TimeUnit.NANOSECONDS.toSeconds(AGENT_WAIT_NANOS) + " s; its console ended with: " + tail);
    return this;
  }

  /** The domain's name. */
  public String name() {
    return name;
  }

  /** {@code kvm} or {@code qemu} (TCG): how the guest runs. */
  public String domainType() {
    return domainType;
  }

  /** The data disk (qcow2; ext4 inside), the domain's {@code vda}. */
  public Path disk() {
    return disk;
  }

  /** Sends a command to the guest agent through libvirt; returns its reply, failing the test on an error. */
  public String agent(String json) throws Exception {
    return libvirt.virsh("qemu-agent-command", name, "--timeout", "30", json);
  }

  /** Writes {@code content} into the guest's file {@code path} through the agent (guest-file-open/write/close). */
  public void writeFile(String path, String content) throws Exception {
    String opened = agent("{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"" + path
        + "\",\"mode\":\"w\"}}");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"return\":(\\d+)").matcher(opened);
    if (!m.find()) {
      fail("guest-file-open " + path + ": " + opened);
    }
    String b64 = java.util.Base64.getEncoder().encodeToString(content.getBytes(StandardCharsets.UTF_8));
    agent("{\"execute\":\"guest-file-write\",\"arguments\":{\"handle\":" + m.group(1) + ",\"buf-b64\":\"" + b64 + "\"}}");
    agent("{\"execute\":\"guest-file-close\",\"arguments\":{\"handle\":" + m.group(1) + "}}");
  }

  /** The agent's {@code guest-fsfreeze-status}: {@code frozen} or {@code thawed}. */
  public String freezeStatus() throws Exception {
    String reply = agent("{\"execute\":\"guest-fsfreeze-status\"}");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"return\":\"(\\w+)\"").matcher(reply);
    if (!m.find()) {
      fail("guest-fsfreeze-status: " + reply);
    }
    return m.group(1);
  }

  /** Everything the guest wrote on its serial console so far: the kernel's log and the agent's. */
  public String consoleLog() throws IOException {
    return Files.exists(console) ? new String(Files.readAllBytes(console), StandardCharsets.UTF_8) : "";
  }

  private String consoleTail() throws IOException {
    List<String> lines = consoleLog().lines().toList();
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
  }

  /** Stops the guest (QEMU flushes the disk) and undefines the domain. */
  @Override
  public void close() throws IOException {
    try {
      libvirt.removeDomain(name);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while removing " + name, e);
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }

  private static Path projectRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve(SCRIPT))) {
        return p;
      }
    }
    throw new IllegalStateException(SCRIPT + " not found above " + Path.of("").toAbsolutePath());
  }
}
