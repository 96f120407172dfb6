#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/sibling.h"

int
sibling_path(const char *name, char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL) {
		errno = ENOENT;
		return -1;
	}
	*slash = '\0';
	if ((size_t)snprintf(out, cap, "%s/%s", self, name) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
