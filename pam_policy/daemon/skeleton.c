/*
 * skeleton.c - the similar_history half of hashing: a password's skeleton
 * (strength_skeleton: its core plus the shape of its digits and symbols,
 * so that "Summer2024!" and "Summer2025!" share one) and the hash batches
 * that evaluate a password's and its skeleton's argon2id side by side.
 *
 * A check or record needs two argon2id evaluations (hash_password of the
 * password, hash_skeleton of its skeleton). The skeleton's runs at the
 * lower cost of hash_skeleton_params (an eighth of the memory; hash.h says
 * why that is sound), and hash_batch_run runs it on a helper thread while
 * the calling worker runs the password's. Two full-cost evaluations side
 * by side did not make one evaluation of wall time on a loaded two-CPU
 * machine: they compete for the cores and the memory bandwidth (1.25x to
 * 1.5x a check without skeletons); the short one is over before it costs
 * the long one much, and even when no second core is free the pair costs
 * about 1.125 evaluations.
 * The pool is sized for it: hash_worker_count (workers.c) counts two
 * evaluations' memory per worker while similar_history is on. When no
 * helper thread can be started the batch runs on the caller alone
 * (slower, never wrong).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "secret.h"
#include "strength.h"

pp_err skeleton_of(const char *password, size_t len, char **out, size_t *outlen)
{
	char *text = NULL, *sk = NULL;
	pp_err rc;

	*out = NULL;
	*outlen = 0;
	/* What strength_skeleton cannot take has no skeleton: not an error. */
	if (password == NULL || len == 0 || len > STRENGTH_MAX_INPUT ||
	    memchr(password, '\0', len) != NULL)
		return PP_OK;
	text = sodium_malloc(len + 1);
	sk = sodium_malloc(STRENGTH_OUT_MAX);
	if (text == NULL || sk == NULL) {
		rc = PP_ERR_NOMEM;
		goto out;
	}
	memcpy(text, password, len);
	text[len] = '\0';
	rc = strength_skeleton(text, sk, STRENGTH_OUT_MAX);
	if (rc == PP_ERR_INVALID || rc == PP_ERR_TOO_LONG) {
		rc = PP_OK;             /* not UTF-8, say: no skeleton */
		goto out;
	}
	if (rc != PP_OK)
		goto out;
	*outlen = strnlen(sk, STRENGTH_OUT_MAX);
	*out = sk;
	sk = NULL;
out:
	if (text != NULL) {
		pp_wipe(text, len + 1);
		sodium_free(text);
	}
	if (sk != NULL) {
		pp_wipe(sk, STRENGTH_OUT_MAX);
		sodium_free(sk);
	}
	return rc;
}

void skeleton_free(char *skeleton)
{
	if (skeleton == NULL)
		return;
	pp_wipe(skeleton, STRENGTH_OUT_MAX);
	sodium_free(skeleton);
}

struct hash_batch_half {
	const struct hash_batch *b;
	bool skeleton;
};

/* Run the tasks of one kind (password or skeleton) of b, in order. */
static void run_half(const struct hash_batch *b, bool skeleton)
{
	for (size_t i = 0; i < b->n; i++) {
		struct hash_task *t = &b->tasks[i];

		if (t->skeleton != skeleton)
			continue;
		t->rc = skeleton
			? hash_skeleton(b->skeleton, b->skeleton_len, b->salt, &t->params,
					b->pepper, t->digest)
			: hash_password(b->password, b->password_len, b->salt, &t->params,
					b->pepper, t->digest);
	}
}

static void *helper_main(void *arg)
{
	const struct hash_batch_half *h = arg;

	run_half(h->b, h->skeleton);
	return NULL;
}

pp_err hash_batch_run(const struct hash_batch *b)
{
	struct hash_batch_half half = { .b = b, .skeleton = true };
	bool any_password = false, any_skeleton = false, helper = false;
	pthread_t thread;

	for (size_t i = 0; i < b->n; i++) {
		b->tasks[i].rc = PP_ERR_INTERNAL;
		if (b->tasks[i].skeleton)
			any_skeleton = true;
		else
			any_password = true;
	}
	if (any_skeleton && b->skeleton == NULL)
		return PP_ERR_INVALID;
	/* Both kinds: the skeleton's beside the password's, on a helper. */
	if (any_password && any_skeleton)
		helper = pthread_create(&thread, NULL, helper_main, &half) == 0;
	run_half(b, false);
	if (helper)
		pthread_join(thread, NULL);
	else if (any_skeleton)
		run_half(b, true);
	for (size_t i = 0; i < b->n; i++)
		if (b->tasks[i].rc != PP_OK)
			return b->tasks[i].rc;
	return PP_OK;
}
