/* harness.c - shared helpers for the Check test programs. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static void harness_die(const char *what)
{
	fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
	abort();
}

static void log_append(struct harness_conv *c, char kind, const char *text)
{
	size_t used = strlen(c->log);
	if (used + 4 >= sizeof(c->log))
		return;
	snprintf(c->log + used, sizeof(c->log) - used, "%c: %s\n", kind,
		 text ? text : "");
}

int harness_conv_function(int n, const struct pam_message **msg,
			  struct pam_response **resp, void *appdata)
{
	struct harness_conv *c = appdata;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			c->prompts++;
			log_append(c, 'P', msg[i]->msg);
			if (c->next >= c->n_answers) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			r[i].resp = strdup(c->answers[c->next++]);
			break;
		case PAM_ERROR_MSG:
			c->errors++;
			log_append(c, 'E', msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			c->infos++;
			log_append(c, 'I', msg[i]->msg);
			break;
		default:
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

void harness_conv_init(struct harness_conv *c, const char *const *answers)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; answers && answers[i] && i < HARNESS_MAX_ANSWERS; i++)
		c->answers[c->n_answers++] = answers[i];
}

const char *harness_build(const char *name)
{
	/* Several results may be used in one printf: rotate the buffers. */
	static __thread char bufs[4][4096];
	static __thread unsigned next;
	char *buf = bufs[next++ % 4];
	const char *b = getenv("PAM_POLICY_TEST_BUILD");
	snprintf(buf, sizeof(bufs[0]), "%s/%s", b ? b : "build", name);
	return buf;
}

const char *harness_top(void)
{
	const char *t = getenv("PAM_POLICY_TEST_TOP");
	return t ? t : ".";
}

void harness_tmpdir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");
	snprintf(buf, len, "%s/pp.XXXXXX", t ? t : "/tmp");
	if (mkdtemp(buf) == NULL)
		harness_die("mkdtemp");
}

void harness_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		harness_die(path);
	fputs(text, f);
	if (fclose(f) != 0)
		harness_die(path);
}

char *harness_read(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, used = 0;
	char *s = malloc(cap);
	size_t got;
	while (s && (got = fread(s + used, 1, cap - used - 1, f)) > 0) {
		used += got;
		if (cap - used < 2) {
			char *bigger = realloc(s, cap * 2);
			if (bigger == NULL) {
				free(s);
				s = NULL;
				break;
			}
			s = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (s)
		s[used] = '\0';
	return s;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

void harness_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

bool harness_is_root(void)
{
	return geteuid() == 0;
}

static int harness_pam_call(const char *confdir, const char *service,
			    const char *user, int flags,
			    struct harness_conv *conv, bool chauthtok)
{
	struct pam_conv pc = { harness_conv_function, conv };
	pam_handle_t *pamh = NULL;
	int rc = pam_start_confdir(service, user, &pc, confdir, &pamh);
	if (rc != PAM_SUCCESS)
		return rc;
	rc = chauthtok ? pam_chauthtok(pamh, flags) : pam_acct_mgmt(pamh, flags);
	pam_end(pamh, rc);
	return rc;
}

int harness_pam_chauthtok(const char *confdir, const char *service,
			  const char *user, int flags,
			  struct harness_conv *conv)
{
	return harness_pam_call(confdir, service, user, flags, conv, true);
}

int harness_pam_acct_mgmt(const char *confdir, const char *service,
			  const char *user, int flags,
			  struct harness_conv *conv)
{
	return harness_pam_call(confdir, service, user, flags, conv, false);
}
