/*
 * crlf: the spool's CRLF lines (RFC 5321 2.3.8) to the LF lines a Maildir
 * file or a delivery program expects, over a stream read in chunks. Only
 * CR LF pairs become LF; a bare CR or LF stays as it is.
 */
#ifndef PM_CRLF_H
#define PM_CRLF_H

#include <stddef.h>

/*
 * Converts in[0..n) into out, which must hold n + 1 bytes (a CR held from
 * the previous chunk plus every byte), and returns the bytes written. A CR
 * ending a chunk waits in *cr (0 at the start of the stream) for the next
 * one; a CR still held at the end of the stream was bare and is the
 * caller's to write.
 */
size_t crlf_to_lf(const char *in, size_t n, char *out, int *cr);

#endif
