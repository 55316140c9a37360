#!/bin/sh
# packaging/deb.sh ROOT OUTDIR — packs ROOT (a `make install DESTDIR=ROOT
# PREFIX=/usr` tree) into OUTDIR/kvmstub_VERSION_ARCH.deb with dpkg-deb, as
# Debian policy lays a package out: stripped binary, compressed manual page
# and README, a copyright file, md5sums, and the shared-library dependencies
# dpkg-shlibdeps finds. The version is what the packed binary says. Called by
# `make deb`; needs only dpkg-dev (dpkg-deb, dpkg-shlibdeps) and binutils.
set -eu

root=$1
out=$2
[ -x "$root/usr/bin/kvmstub" ] || { echo "deb.sh: $root/usr/bin/kvmstub is missing" >&2; exit 1; }
bin=$(cd "$root/usr/bin" && pwd)/kvmstub
doc="$root/usr/share/doc/kvmstub"

version=$("$bin" --version | awk '$1 == "kvmstub" { print $2 }')
[ -n "$version" ] || { echo "deb.sh: kvmstub --version says no version" >&2; exit 1; }
arch=$(dpkg --print-architecture)

# Reproducible dates: the last commit's, else now.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

strip --strip-unneeded --remove-section=.comment --remove-section=.note "$bin"
gzip -9nf "$root/usr/share/man/man1/kvmstub.1" "$doc/README.md"

cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: kvmstub

Files: *
Copyright: the kvmstub authors
License: see the kvmstub source tree
EOF

{
	printf 'kvmstub (%s) unstable; urgency=medium\n\n' "$version"
	printf '  * Packaged from the source tree by make deb.\n\n'
	printf ' -- kvmstub developers <dev@kvmstub.invalid>  %s\n' "$(date -R -u -d "@$epoch")"
} | gzip -9n >"$doc/changelog.Debian.gz"

# dpkg-shlibdeps wants a debian/control naming the package: a scratch one.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/debian"
printf 'Source: kvmstub\n\nPackage: kvmstub\nArchitecture: any\n' >"$scratch/debian/control"
depends=$(cd "$scratch" && dpkg-shlibdeps -O "$bin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || depends=libc6

mkdir -p "$root/DEBIAN"
size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: kvmstub
Version: $version
Architecture: $arch
Maintainer: kvmstub developers <dev@kvmstub.invalid>
Installed-Size: $size
Depends: $depends
Recommends: gdb
Suggests: lldb
Section: devel
Priority: optional
Description: GDB remote stub backed by a KVM vCPU
 kvmstub runs a tiny x86 kernel (ELF32, ELF64 or a flat binary) on a KVM
 virtual CPU and lets gdb, lldb or an IDE debug it over the GDB remote
 protocol: breakpoints, single steps, registers including the control
 registers, memory by virtual address and watchpoints, while the guest's
 serial output keeps printing. Also runs kernels in CI without a debugger,
 with gdb -batch examples for scripted checks.
EOF
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 0755 {} +
find "$root/usr" -type f ! -path '*/bin/*' -exec chmod 0644 {} +
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

deb="$out/kvmstub_${version}_${arch}.deb"
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
