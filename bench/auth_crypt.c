/*
 * CPU time of one password check, per scheme, through auth_crypt (the
 * code postmaster-smtpd runs, libxcrypt linked statically as in smtpd):
 * bench/auth_crypt N prints user+sys milliseconds per verification of
 * yescrypt (Debian's default cost), sha512-crypt (5000 rounds) and bcrypt
 * (cost 12, Python's and mkpasswd's default). CPU time, not wall-clock:
 * the machine is shared. Build: cc -O2 -Ilib -o auth_crypt
 * bench/auth_crypt.c build/libpostmaster.a -lcrypt
 */
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth/auth_crypt.h"

static double
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int
main(int argc, char **argv)
{
	static const char *const h[][2] = {
		{ "yescrypt j9T", "$y$j9T$Wp7KqLPwhVD946Uq4ua2X1$"
		    "ClbjCzcZkj3lzDMDWTmNCjfJlOFYTHDYc/le9JXPIw1" },
		{ "sha512-crypt", "$6$rounds=5000$saltsalt$pauPrmdmG4BTE9h2HPmy"
		    "wiw152IFch6BJCEsaY6D.PLTfpV8sqvXwWdyfsgVgozkYH9B80bAip/08R"
		    "2BPH2xk/" },
		{ "bcrypt 12", "$2b$12$mk4eTBqCxKyMpT0J12eoGupPHuafnQBaSNoxEUL9W"
		    "Iam0RuGbS01K" },
	};
	long n = argc > 1 ? atol(argv[1]) : 20, i;
	size_t k;

	for (k = 0; k < sizeof h / sizeof h[0]; k++) {
		double t0 = cpu_ms();

		for (i = 0; i < n; i++)
			if (auth_crypt_verify("pw", h[k][1]) < 0)
				return 1;
		printf("%-14s %.2f ms CPU per check\n", h[k][0],
		    (cpu_ms() - t0) / (double)n);
	}
	return 0;
}
