/*
 * utf8: well-formed UTF-8 (RFC 3629) and the code points that must never
 * appear in an address or reach a log line unescaped.
 *
 * "Hidden" code points change how text around them is shown without being
 * seen themselves (RFC 5198 2, Unicode TR 36 on spoofing): C1 controls
 * U+0080-U+009F, the bidi marks U+061C, U+200E, U+200F, the bidi
 * embeddings and overrides U+202A-U+202E and isolates U+2066-U+2069, and
 * the line and paragraph separators U+2028, U+2029 (a line break in some
 * viewers). None belongs in a mailbox name (IDNA 2008 disallows them in
 * labels too); smtp_addr refuses them and the logger escapes them.
 */
#ifndef PM_UTF8_H
#define PM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length (2-4) of the well-formed multi-octet sequence at p[0..n), its
 * code point in *cp; 0 for ASCII, a truncated or malformed sequence
 * (overlong forms, surrogates, above U+10FFFF).
 */
size_t utf8_seq_len(const unsigned char *p, size_t n, uint32_t *cp);

/* 1 for the hidden code points above, else 0. */
int utf8_hidden(uint32_t cp);

#endif
