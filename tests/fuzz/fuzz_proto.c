/*
 * fuzz_proto.c - libFuzzer target for the protocol decoder.
 *
 * Every input is a body for proto_decode(). Whatever decodes must
 * re-encode to exactly the input bytes (the encoding is canonical), must
 * satisfy the decoder's promises (strings inside the input, bounded, free
 * of NUL), and must describe without trouble.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	pp_err err = proto_decode(data, size, &m);
	if (err != PP_OK) {
		if (err != PP_ERR_PROTOCOL && err != PP_ERR_TOO_LONG)
			abort();
		if (m.nfields != 0)
			abort();
		return 0;
	}

	if (size > PROTO_MAX_FRAME || m.nfields > PROTO_MAX_FIELDS)
		abort();
	if (!proto_is_request((unsigned)m.type) && !proto_is_reply((unsigned)m.type))
		abort();
	for (unsigned i = 0; i < m.nfields; i++) {
		const struct proto_field *f = &m.f[i];
		if (f->kind != PROTO_KIND_STR)
			continue;
		if (f->len > PROTO_MAX_STR)
			abort();
		if (f->len > 0 && ((const uint8_t *)f->str < data ||
				   (const uint8_t *)f->str + f->len > data + size ||
				   memchr(f->str, '\0', f->len) != NULL))
			abort();
	}

	uint8_t out[PROTO_MAX_FRAME];
	size_t len = 0;
	if (proto_encode(&m, out, sizeof(out), &len) != PP_OK)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();

	/* A too-small buffer must be refused, never overrun. */
	if (size > 0 && proto_encode(&m, out, size - 1, &len) != PP_ERR_TOO_LONG)
		abort();

	char text[256];
	proto_describe(&m, text, sizeof(text));
	if (strlen(text) >= sizeof(text))
		abort();
	return 0;
}
