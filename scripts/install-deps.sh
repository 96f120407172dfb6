#!/bin/sh
# Installs the Debian 12 packages Postmaster builds and tests with.
# Called by the Makefile only when something is missing; safe to rerun.
set -eu

PKGS="build-essential pkg-config libcdb-dev tinycdb libgnutls28-dev \
libspf2-dev libsystemd-dev ucspi-tcp-ipv6 swaks postfix postfix-cdb clang llvm \
clang-format gnutls-bin \
libclang-rt-14-dev dovecot-lmtpd dnsmasq-base python3 perl systemd \
iproute2 procps bc haproxy \
gnutls-bin openssl libio-socket-ssl-perl libnet-ssleay-perl \
libgnutls-dane0 libidn12 libnsl2 libdb5.3 \
libcrypt-dev dovecot-core msmtp python3-spf python3-dns"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing:$missing (run as root to install)" >&2
	exit 69
fi

# Postfix asks which configuration to write; we only want its test tools
# (smtp-source, smtp-sink) and private instances started with -c DIR.
echo "postfix postfix/main_mailer_type select No configuration" |
	debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packaged services must not start and grab ports 25 or 24.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends $missing
