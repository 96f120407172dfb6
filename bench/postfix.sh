# Shared by bench/smtpd.sh and bench/queue.sh: a private Postfix instance.
# pf_master_cf DIR PORT writes Debian's services without chroot, with smtpd
# on 127.0.0.1:PORT (maxproc 200); pf_start NAME DIR sets pf_master.

pf_master_cf() {
	cat >"$1/pf/master.cf" <<EOF2
127.0.0.1:$2 inet n - n - 200 smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF2
}

pf_start() {
	postfix -c "$2/pf" start >/dev/null 2>&1 || {
		echo "$1: postfix start failed:" >&2
		postfix -c "$2/pf" check >&2
		exit 1
	}
	i=0
	while [ ! -s "$2/pfq/pid/master.pid" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	pf_master=$(tr -d ' \n' <"$2/pfq/pid/master.pid")
}
