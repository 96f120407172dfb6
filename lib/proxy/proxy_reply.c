#include <string.h>

#include "proxy/proxy_reply.h"
#include "smtp/smtp_reply.h"

/* RFC 3463 2: class "." subject "." detail, 1 and 1-3 and 1-3 digits,
 * then a space or the end. */
static int
has_enhanced(const char *p, size_t n)
{
	size_t i = 0, part, k;

	for (part = 0; part < 3; part++) {
		for (k = 0; i < n && p[i] >= '0' && p[i] <= '9'; k++)
			i++;
		if (k == 0 || k > (part == 0 ? 1u : 3u))
			return 0;
		if (part < 2 && (i >= n || p[i++] != '.'))
			return 0;
	}
	return i == n || p[i] == ' ';
}

int
proxy_reply_format(struct buf *out, const struct client_reply *r,
    const char *enh_ok)
{
	const char *text = r->text;
	size_t len = strnlen(text, sizeof r->text);
	int code = r->code, cls = code / 100;

	if (cls != 2 && cls != 4 && cls != 5) {
		/* a 1xx or 3xx where a final reply belongs: a broken target */
		code = cls < 4 ? 451 : 554;
		cls = code / 100;
	}
	/* client_reply text: "NNN" or "NNN text" */
	text = len > 4 ? text + 4 : "";
	len = len > 4 ? len - 4 : 0;
	if (has_enhanced(text, len) && *text == '0' + cls)
		return smtp_reply_text(out, "%d %.*s", code, (int)len, text);
	return smtp_reply_text(out, "%d %s %.*s", code,
	    cls == 2     ? enh_ok :
	        cls == 4 ? "4.0.0" :
	                   "5.0.0",
	    len ? (int)len : 7, len ? text : "proxied");
}
