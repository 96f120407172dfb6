/*
 * deliver_account: which passwd entries get mail as system users (the
 * "~/Maildir" mode of postmaster-lmtpd, local names run by a [pipe]
 * local mailer, and smtpd's RCPT check in front of them). One rule for
 * all three, so that what smtpd accepts is what the queue delivers.
 *
 * A local part names an account when getpwnam finds it as given or in
 * lower case (ASCII: system names are lower case). Refused: uid 0 (mail
 * for root belongs to an alias), uids below [core] first-valid-uid
 * (daemon, man, mail...: Dovecot's first_valid_uid) and the overflow uid
 * 65534 (nobody: the owner of NFS-squashed files, never a person).
 */
#ifndef PM_DELIVER_ACCOUNT_H
#define PM_DELIVER_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <pwd.h>

/* [core] first-valid-uid when the configuration does not say. */
#define DELIVER_ACCOUNT_FIRST_UID 1000
/* The kernel's overflow uid (/proc/sys/kernel/overflowuid), "nobody". */
#define DELIVER_ACCOUNT_OVERFLOW_UID 65534

enum deliver_account {
	DELIVER_ACCOUNT_OK = 0,
	DELIVER_ACCOUNT_UNKNOWN,	/* no such user */
	DELIVER_ACCOUNT_ROOT,		/* uid 0 */
	DELIVER_ACCOUNT_SYSTEM,		/* below first_uid, or the overflow uid */
	DELIVER_ACCOUNT_ERROR		/* the lookup failed: temporary */
};

/*
 * Looks up local[0..len) and checks it against first_uid. On
 * DELIVER_ACCOUNT_OK, _ROOT and _SYSTEM *pw points into pwbuf/sbuf.
 */
enum deliver_account deliver_account_find(const char *local, size_t len,
    uint64_t first_uid, struct passwd *pwbuf, char *sbuf, size_t slen,
    struct passwd **pw);

/*
 * The same, reading the passwd(5) file instead of the name service
 * (file NULL: getpwnam_r). A statically linked program must not call
 * getpwnam for a name /etc/passwd lacks: glibc then loads the next NSS
 * module (systemd's), which a static binary cannot host.
 */
enum deliver_account deliver_account_find_in(const char *file,
    const char *local, size_t len, uint64_t first_uid, struct passwd *pwbuf,
    char *sbuf, size_t slen, struct passwd **pw);

/*
 * 1 when the "passwd:" sources of nsswitch.conf are only files (and
 * systemd, which adds no mail users), so that /etc/passwd answers for
 * every user; 0 when another source (ldap, sss, nis...) may know more.
 */
int deliver_account_files_only(const char *nsswitch);

#endif
