/**
 * Live backups of running domains through libvirt (libvirt-java): {@link
 * org.tidemark.libvirt.PullBackup} runs a pull-mode backup job that creates the new checkpoint and
 * exports each disk over NBD; {@link org.tidemark.libvirt.LiveDisk} presents one exported disk to
 * the backup pipeline. libvirt's client library ({@code libvirt0}) is loaded on first use only.
 */
package org.tidemark.libvirt;
