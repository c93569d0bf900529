#!/bin/sh
# Runs libvirtd (QEMU driver) for the tests in a private mount namespace, so that it reads the
# configuration in DIR/etc and keeps its sockets, state, cache and logs under DIR instead of the
# host's /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt.
# A libvirtd of the host (if any), or of another test run, is not touched (the PID file is ours too). Clients connect with
#   qemu:///system?socket=DIR/run/libvirt-sock
# Usage (as root): unshare --mount --propagation private sh libvirtd-sandbox.sh DIR
set -eu
dir=$1
for d in etc run lib cache log; do mkdir -p "$dir/$d"; done
mount --bind "$dir/etc" /etc/libvirt
mount --bind "$dir/run" /run/libvirt
mount --bind "$dir/lib" /var/lib/libvirt
mount --bind "$dir/cache" /var/cache/libvirt
mount --bind "$dir/log" /var/log/libvirt
# one CPU: libvirt drops its QEMU capability cache when it starts on another CPU than the one that
# built it ("host cpuid changed"), and a cold probe takes seconds
exec taskset -c 0 libvirtd --config "$dir/etc/libvirtd.conf" --pid-file "$dir/run/libvirtd.pid"
