#include <string.h>

#include "client/client_wire.h"

#define WIRE_MAX CLIENT_WIRE_LINE_MAX

void
client_wire_init(struct client_wire *w, int binary)
{
	memset(w, 0, sizeof *w);
	w->binary = binary;
}

static int
emit(struct client_wire *w, struct buf *out, const char *p, size_t n)
{
	w->count += n;
	return out == NULL ? 0 : buf_append(out, p, n);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_cont(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

/* A header line of WIRE_MAX + 1 octets folds before l[p] (RFC 5322
 * 2.2.3): a blank with a non-blank on both sides, so neither part is
 * empty or blank only. 0: no such place. */
static size_t
fold_at(const char *l)
{
	size_t p;

	for (p = WIRE_MAX - 1; p >= 1; p--)
		if (is_blank(l[p]) && !is_blank(l[p + 1]) && !is_blank(l[p - 1]))
			return p;
	return 0;
}

/* Where a hard break goes: after octet WIRE_MAX, or before the lead
 * octet of a UTF-8 sequence that would be split (at most 3 back). */
static size_t
cut_at(const char *l)
{
	size_t q = WIRE_MAX;

	while (q > WIRE_MAX - 3 && is_cont(l[q]))
		q--;
	if (q != WIRE_MAX && (unsigned char)l[q] < 0xC0)
		q = WIRE_MAX;	/* not UTF-8 after all */
	return q;
}

static int
all_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_blank(p[i]))
			return 0;
	return 1;
}

/* line[] is full (one octet too long): send its first part as a line;
 * a hard fold in the header starts the rest with SP. A part of blanks
 * only would be a header line a parser may take for the empty line that
 * ends the header: such a run is cut to one blank instead. */
static int
break_line(struct client_wire *w, struct buf *out)
{
	size_t q = w->in_body ? 0 : fold_at(w->line), keep;
	int hard = q == 0 && !w->in_body;

	if (q == 0)
		q = cut_at(w->line);
	keep = w->nline - q;
	if (hard && all_blank(w->line, q)) {
		memmove(w->line + 1, w->line + q, keep);
		w->nline = keep + 1;
		w->dropped = 1;
		return 0;
	}
	if (emit(w, out, w->line, q) < 0 || emit(w, out, "\r\n", 2) < 0)
		return -1;
	memmove(w->line + hard, w->line + q, keep);
	if (hard)
		w->line[0] = ' ';
	w->nline = keep + (size_t)hard;
	w->folded = !w->in_body;
	return 0;
}

static int
hold(struct client_wire *w, struct buf *out, const char *s, size_t k)
{
	while (k > 0) {
		size_t m = sizeof w->line - w->nline;

		if (m > k)
			m = k;
		memcpy(w->line + w->nline, s, m);
		w->nline += m;
		s += m;
		k -= m;
		if (w->nline == sizeof w->line && break_line(w, out) < 0)
			return -1;
	}
	return 0;
}

/* A line end: what is held, then CRLF. The first empty line ends the
 * header section. Blanks left over from folding a header line are its
 * trailing blanks: dropped rather than sent as a line of their own. */
static int
end_line(struct client_wire *w, struct buf *out, int empty)
{
	if (w->folded && all_blank(w->line, w->nline))
		w->dropped = 1;
	else if (emit(w, out, w->line, w->nline) < 0 ||
	    emit(w, out, "\r\n", 2) < 0)
		return -1;
	w->nline = 0;
	w->folded = 0;
	if (empty)
		w->in_body = 1;
	return 0;
}

int
client_wire_feed(struct client_wire *w, const char *p, size_t n,
    struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *lf, *cr;
		size_t end, k;
		int e;

		if (w->cr) {
			/* the LF of a CRLF whose CR ended the last call */
			w->cr = 0;
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		if (w->binary && w->in_body)
			return emit(w, out, p + i, n - i);
		lf = memchr(p + i, '\n', n - i);
		end = lf ? (size_t)(lf - p) : n;
		if ((cr = memchr(p + i, '\r', end - i)) != NULL)
			end = (size_t)(cr - p);
		k = end - i;
		if (end == n)
			return hold(w, out, p + i, k);
		/* A whole line that fits goes out without a copy. */
		if (w->nline == 0 && k <= WIRE_MAX)
			e = emit(w, out, p + i, k) < 0 ||
			    end_line(w, out, !w->in_body && k == 0) < 0;
		else
			e = hold(w, out, p + i, k) < 0 ||
			    end_line(w, out, 0) < 0;
		if (e)
			return -1;
		i = end + 1;
		if (p[end] == '\r') {
			if (i == n)
				w->cr = 1;
			else if (p[i] == '\n')
				i++;
		}
	}
	return 0;
}

/* Text ends with a line end: DATA needs one before its dot (RFC 5321
 * 4.1.1.4), and SIZE= then counts what is sent. */
int
client_wire_end(struct client_wire *w, struct buf *out)
{
	return w->nline == 0 ? 0 : end_line(w, out, 0);
}

int
client_wire_changed(const struct client_wire *w, uint64_t in_len)
{
	return w->count != in_len || w->dropped;
}

int
client_wire_canonical(const char *p, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
		} else if (p[i] == '\n' || ++col > WIRE_MAX)
			return 0;
	}
	return 1;
}
