#include <string.h>
#include <syslog.h>

#include "base/log.h"
#include "cf/cf_logger.h"

static int
facility_code(const char *f)
{
	static const struct {
		const char *name;
		int code;
	} map[] = { { "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 } };
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].name, f) == 0)
			return map[i].code;
	return LOG_MAIL;
}

int
cf_logger_setup(struct cf_db *db, const char *kind, const char *name)
{
	char logger[256], v[1024], fac[32];

	logger[0] = '\0';
	if (kind && cf_db_str(db, kind, name ? name : "", "logger", logger,
	    sizeof logger) < 0)
		return -1;
	if (logger[0] == '\0' &&
	    cf_db_str(db, "core", "", "logger", logger, sizeof logger) < 0)
		return -1;
	if (strcmp(logger, "stderr") == 0 || logger[0] == '\0') {
		log_use_stderr();
		return 0;
	}
	if (cf_db_has_section(db, "logfile", logger) > 0) {
		if (cf_db_str(db, "logfile", logger, "file", v, sizeof v) < 0)
			return -1;
		return log_use_file(v);
	}
	/* "syslog" is the unnamed [syslog] (or its defaults); others named */
	if (strcmp(logger, "syslog") == 0 &&
	    cf_db_has_section(db, "syslog", "syslog") <= 0)
		logger[0] = '\0';
	cf_db_str(db, "syslog", logger, "ident", v, sizeof v);
	cf_db_str(db, "syslog", logger, "facility", fac, sizeof fac);
	log_use_syslog(v, facility_code(fac));
	return 0;
}
