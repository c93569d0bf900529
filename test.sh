#!/usr/bin/env bash
# The test command (README.md): installs what the tests use as ground truth and as live
# components when missing, then runs Maven's full build and tests. Extra arguments go to Maven.
#
#   QEMU's tools, libnbd, libvirt's client  qemu-img/qemu-io/qemu-nbd, nbdinfo, virsh -c test:///default
#   libvirtd with the QEMU driver, QEMU     the live-backup tests start their own libvirtd (as root, in a
#                                           private mount namespace: the host's libvirt is left alone)
#   e2fsprogs                               the guest-agent tests' ext4 disk (mkfs.ext4) and its checks
#                                           (debugfs, dumpe2fs, e2fsck)
#   libglib2.0-0 libnuma1 liburing2 libudev1  qemu-ga's libraries, copied from this host into the guest
#   a tiny Linux guest running qemu-ga      backup-live/src/test/guest/make-agent-guest.sh downloads the
#                                           Debian packages linux-image-cloud-amd64's kernel, busybox-static
#                                           and qemu-guest-agent (apt-get download: nothing installed, 28 MB)
#                                           and builds the guest once per set of package versions into
#                                           backup-live/target/agent-guest
#
# Installing needs root (or sudo); on a machine that has everything it installs nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

packages=(qemu-utils libnbd-bin libnbd0 libvirt-clients libvirt0 python3
          libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 util-linux e2fsprogs
          libglib2.0-0 libnuma1 liburing2 libudev1)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  # no recommends: libvirt-daemon-system would bring systemd units and a system daemon we do not use
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# libvirtd refuses to start without this user, even when QEMU runs as root
if ! id libvirt-qemu >/dev/null 2>&1; then
  $sudo useradd --system --user-group --no-create-home --shell /usr/sbin/nologin libvirt-qemu
fi

# the guest of the guest-agent tests (AgentGuest); a no-op when built for the versions apt offers
bash backup-live/src/test/guest/make-agent-guest.sh backup-live/target/agent-guest >/dev/null

exec mvn -B verify "$@"
