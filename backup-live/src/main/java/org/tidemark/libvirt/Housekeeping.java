package org.tidemark.libvirt;

import static org.tidemark.libvirt.LibvirtCalls.call;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.libvirt.Domain;
import org.libvirt.DomainCheckpoint;
import org.libvirt.LibvirtException;
import org.tidemark.xml.CheckpointXml;
import org.tidemark.xml.CheckpointXmlException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link LiveBackupRunner} tidies on a domain around a backup: the job a killed run left
 * before it, Tidemark's older checkpoints after it.
 */
final class Housekeeping {
  private static final Logger LOG = LoggerFactory.getLogger(Housekeeping.class);
  /** libvirt's {@code VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY}. */
  private static final int CHECKPOINT_DELETE_METADATA_ONLY = 1 << 1;

  private Housekeeping() {}

  /**
   * Deletes Tidemark's checkpoints older than the newest {@code keep} besides {@code newest}, once
   * the new archive is committed: the next incremental needs only {@code newest}. Another tool's
   * checkpoints are never deleted. A failure to delete is logged, not fatal: the backup is done.
   */
  static List<String> rotate(Domain domain, String domainName, String newest, int keep) {
    List<String> deleted = new ArrayList<>();
    try {
      List<DomainCheckpoint> ours = new ArrayList<>();
      Map<DomainCheckpoint, Long> created = new HashMap<>();
      for (DomainCheckpoint c : domain.listAllCheckpoints(0)) {
        String n = c.getName();
        if (n.startsWith(LiveBackupRunner.CHECKPOINT_PREFIX) && !n.equals(newest)) {
          ours.add(c);
          created.put(c, CheckpointXml.parse(c.getXMLDesc(LiveBackupRunner.CHECKPOINT_XML_NO_DOMAIN).getBytes(StandardCharsets.UTF_8), n,
              EnumSet.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN)).creationTime());
        }
      }
      ours.sort(Comparator.comparingLong((DomainCheckpoint c) -> created.get(c)).reversed());
      for (DomainCheckpoint c : ours.subList(Math.min(keep, ours.size()), ours.size())) {
        String n = c.getName();
        try {
          c.delete(0); // libvirt merges its bitmap into its parent's: the later "changes since" stay right
        } catch (LibvirtException e) {
          // a checkpoint whose bitmap QEMU lost (killed) cannot be merged: only libvirt's record of it
          // goes; nothing after it depends on its bitmap
          c.delete(CHECKPOINT_DELETE_METADATA_ONLY);
          LOG.warn("domain {}: checkpoint {} had a broken bitmap ({}); removed its metadata", domainName, n,
              e.getMessage().strip());
        }
        deleted.add(n);
        LOG.info("domain {}: deleted checkpoint {} (rotation)", domainName, n);
      }
    } catch (LibvirtException | CheckpointXmlException e) {
      LOG.warn("domain {}: rotating Tidemark's checkpoints: {}", domainName, e.getMessage());
    }
    return deleted;
  }

  /**
   * Ends a backup job a killed run of this runner left on the domain (its socket lies in {@code
   * work}) and removes its files; refuses when the domain runs another tool's job.
   */
  static void endLeftoverJob(Domain domain, String domainName, Path work, Optional<PullBackup.Tcp> tcp)
      throws IOException {
    int type = call(domainName, "read the domain's job", () -> domain.getJobInfo().getType());
    if (type != 0) {
      String xml;
      try {
        xml = domain.getBackupXMLDesc(0);
      } catch (LibvirtException e) {
        throw new LibvirtBackupException(domainName, "begin a backup: the domain runs another job", e);
      }
      boolean ours = xml.contains(work.resolve(PullBackup.SOCKET).toAbsolutePath().toString())
          || tcp.isPresent() && xml.contains("name='" + tcp.get().host() + "'") && xml.contains("port='" + tcp.get().port() + "'");
      if (!ours) {
        throw new LibvirtBackupException(domainName, "begin a backup",
            new IOException("the domain runs a backup job of another tool; Tidemark leaves it alone"));
      }
      LOG.warn("domain {}: ending the backup job a killed Tidemark run left", domainName);
      call(domainName, "end the backup job a killed run left", domain::abortJob);
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (call(domainName, "read the domain's job", () -> domain.getJobInfo().getType()) != 0
          && System.nanoTime() < deadline) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted while ending a leftover backup job");
        }
      }
    }
    if (Files.isDirectory(work)) {
      try (var files = Files.list(work)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
