/*
 * common.c: what the its-trace subcommands share: messages and opening traces.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

void err_msg(const char *sub, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", prog, sub);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int opt_u64(const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	if (arg == NULL || !isdigit((unsigned char)arg[0]))
		return -1;      /* empty, signed, or spaced: strtoull would take those */
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 0);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int usage_error(const char *sub, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", prog, sub);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", prog, sub);
	return EXIT_BAD;
}

struct damage_ctx {
	const char *sub, *path;
	int *damaged;
};

static struct damage_ctx dctx;

static void on_damage(void *ctx, const struct itr_damage *d)
{
	struct damage_ctx *c = ctx;
	(*c->damaged)++;
	err_msg(c->sub, "%s: damaged (%s): %s", c->path, itr_damage_name(d->kind), d->what);
}

struct itr_reader *open_trace(const char *sub, const char *path, int *damaged)
{
	*damaged = 0;
	dctx = (struct damage_ctx){ sub, path, damaged };
	struct itr_reader_opts o = { .sz = sizeof(o), .on_damage = on_damage, .ctx = &dctx };
	struct itr_reader *r;
	char msg[256];
	int rc = itr_reader_open(path, &o, &r, msg, sizeof(msg));
	if (rc) {
		err_msg(sub, "%s: %s", path, msg[0] ? msg : itr_strerror(rc));
		return NULL;
	}
	return r;
}

int finish_trace(const char *sub, const char *path, struct itr_reader *r, int read_rc)
{
	const struct itr_read_stats *st = itr_reader_stats(r);
	int code = EXIT_OK;
	if (read_rc < 0) {
		err_msg(sub, "%s: %s", path, itr_strerror(read_rc));
		code = EXIT_BAD;
	}
	if (st->damage_events) {
		err_msg(sub, "%s: damaged trace: %llu records read; lost: %llu bytes, %llu records "
			"known, %llu blocks known", path, (unsigned long long)st->records,
			(unsigned long long)st->bytes_lost, (unsigned long long)st->records_lost,
			(unsigned long long)st->blocks_lost);
		code = EXIT_BAD;
	}
	return code;
}
