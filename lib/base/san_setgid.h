/*
 * san_setgid: include once, in the main file of a program installed
 * setgid (postmaster-inject, postmaster-tlsd). ASan builds only:
 * LeakSanitizer needs ptrace, which the kernel denies to a setgid process,
 * and a secure-mode process ignores ASAN_OPTIONS; so the default is set
 * here or every setgid run would exit 1 at its end.
 */
#ifndef PM_BASE_SAN_SETGID_H
#define PM_BASE_SAN_SETGID_H

#ifdef __SANITIZE_ADDRESS__
const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

#endif
