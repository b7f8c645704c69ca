/*
 * cmd_minimize.c: its-trace minimize TRACE --until CHECK -o OUT
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "replay.h"

static const char *const SUB = "minimize";

static void help(void)
{
	printf(
"usage: %s minimize TRACE --until CHECK -o OUT [--quiet]\n"
"\n"
"Delta debugging over the guest commands, property writes and MSIs of TRACE, down\n"
"to the smallest trace that still fails CHECK.  Register setup, the property table\n"
"and device assignments are kept; the kept commands are packed into the queue in\n"
"order and every record naming a queue slot follows them.  Prints the reduction.\n"
"\n"
"CHECK is one of:\n"
"  divergence            replay diverges the way TRACE does (same kind, same expected\n"
"                        record, same reason)\n"
"  oracle:NAME[:POLICY]  a whatif oracle fails under POLICY (default: each policy under\n"
"                        which TRACE fails it).  NAME: equivalence (the reference\n"
"                        model disagrees), phys-errors (the physical ITS model saw an\n"
"                        erroneous command), queue-full (the physical queue filled),\n"
"                        spurious (spurious host LPIs)\n"
"  anything else         a shell command; {} is replaced by the candidate trace's path\n"
"                        (appended when absent).  The candidate fails when the command\n"
"                        exits with the same non-zero status as on TRACE.\n"
"\n"
"options:\n"
"  -u, --until CHECK\n"
"  -o, --output OUT      the minimized trace\n"
"  -q, --quiet           no progress on stderr\n"
"  -h, --help            this text\n"
"\n"
"exit status: 0 minimized, 2 bad usage, a damaged trace, or TRACE does not fail CHECK\n"
"\n"
"examples:\n"
"  %s minimize bad.itr --until divergence -o small.itr\n"
"  %s minimize guest.itr --until oracle:equivalence:lazy -o small.itr\n"
"  %s minimize guest.itr --until './my-check.sh {}' -o small.itr\n",
	prog, prog, prog, prog);
}

enum check_kind { CK_DIVERGENCE, CK_ORACLE, CK_SHELL };

struct check {
	enum check_kind kind;
	/* divergence */
	enum rp_div_kind dkind;
	char dsig[2 * RP_TEXT];
	/* oracle */
	char oracle[32];
	int policies[VITS_POLICY_COUNT];
	int npol;
	/* shell */
	const char *cmd;
	char tmp[64];
	int status;
	int quiet;
	uint64_t n;
};

/* The divergence's identity: its kind, reason and expected record, with queue slots
 * (which minimization renumbers) left out. */
static void signature(const struct rp_result *r, char *out, size_t n)
{
	char exp[RP_TEXT];
	size_t j = 0;
	for (const char *p = r->div.expected; *p && j + 1 < sizeof(exp);) {
		if (!strncmp(p, "slot=", 5)) {
			p += 5;
			while (*p && *p != ' ')
				p++;
			continue;
		}
		if (!strncmp(p, "gpa=", 4)) {
			p += 4;
			while (*p && *p != ' ')
				p++;
			continue;
		}
		exp[j++] = *p++;
	}
	exp[j] = 0;
	snprintf(out, n, "%s|%s|%s", rp_div_kind_name(r->div.kind), r->div.what, exp);
}

static int oracle_fails(const struct check *c, const struct rp_result *r)
{
	if (!strcmp(c->oracle, "equivalence"))
		return r->oracle_run && !r->oracle_ok;
	if (!strcmp(c->oracle, "phys-errors"))
		return r->phys_errors > 0;
	if (!strcmp(c->oracle, "queue-full"))
		return r->phys_queue_full > 0;
	if (!strcmp(c->oracle, "spurious"))
		return r->spurious_host_lpis > 0;
	return 0;
}

static int run_shell(struct check *c, const char *path)
{
	char cmd[4096];
	const char *at = strstr(c->cmd, "{}");
	if (at)
		snprintf(cmd, sizeof(cmd), "%.*s%s%s", (int)(at - c->cmd), c->cmd, path, at + 2);
	else
		snprintf(cmd, sizeof(cmd), "%s %s", c->cmd, path);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int check_fn(void *ctx, const struct rp_memtrace *t)
{
	struct check *c = ctx;
	struct rp_opts o;
	rp_opts_default(&o);
	int fail = 0;
	c->n++;
	if (!c->quiet && c->n % 1000 == 0)
		fprintf(stderr, "%s %s: %llu candidates tried\n", prog, SUB, (unsigned long long)c->n);
	struct rp_result *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	switch (c->kind) {
	case CK_DIVERGENCE: {
		if (rp_replay(NULL, t, &o, r, NULL, 0) == 0 && r->diverged) {
			char sig[sizeof(c->dsig)];
			signature(r, sig, sizeof(sig));
			fail = !strcmp(sig, c->dsig);
		}
		break;
	}
	case CK_ORACLE:
		o.oracle = 1;
		o.oracle_every = 256;
		o.phys_queue_bytes = 65536;
		o.assign_all = !(t->h.flags & ITR_HF_HAS_PHYS);
		for (int i = 0; i < c->npol && !fail; i++)
			if (rp_whatif(NULL, t, c->policies[i], &o, r, NULL, 0) == 0)
				fail = oracle_fails(c, r);
		break;
	case CK_SHELL:
		if (rp_memtrace_save(t, c->tmp)) {
			free(r);
			return -1;
		}
		fail = run_shell(c, c->tmp) == c->status;
		break;
	}
	free(r);
	return fail;
}

int cmd_minimize(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "until", required_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *until = NULL, *out = NULL;
	struct check c;
	memset(&c, 0, sizeof(c));
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "u:o:qh", lo, NULL)) != -1) {
		switch (opt) {
		case 'u': until = optarg; break;
		case 'o': out = optarg; break;
		case 'q': c.quiet = 1; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error(SUB, "unknown option");
		}
	}
	if (optind != argc - 1)
		return usage_error(SUB, "expected one TRACE");
	if (!until || !*until)
		return usage_error(SUB, "--until CHECK is required");
	if (!out)
		return usage_error(SUB, "-o OUT is required");
	const char *path = argv[optind];
	struct rp_memtrace *t;
	char msg[512];
	int rc = rp_memtrace_load(path, &t, msg, sizeof(msg));
	if (rc) {
		err_msg(SUB, "%s: %s", path, msg[0] ? msg : rp_strerror(rc));
		rp_memtrace_free(t);
		return EXIT_BAD;
	}
	int code = EXIT_BAD;
	struct rp_result *r = calloc(1, sizeof(*r));
	struct rp_opts o;
	rp_opts_default(&o);
	if (!r)
		goto out;
	if (!strcmp(until, "divergence")) {
		c.kind = CK_DIVERGENCE;
		if (rp_replay(NULL, t, &o, r, msg, sizeof(msg)) < 0 || !r->diverged) {
			err_msg(SUB, "%s does not diverge: nothing to minimize", path);
			goto out;
		}
		signature(r, c.dsig, sizeof(c.dsig));
	} else if (!strncmp(until, "oracle:", 7)) {
		c.kind = CK_ORACLE;
		const char *name = until + 7, *colon = strchr(name, ':');
		size_t l = colon ? (size_t)(colon - name) : strlen(name);
		if (l >= sizeof(c.oracle)) {
			code = usage_error(SUB, "unknown oracle in '%s'", until);
			goto out;
		}
		memcpy(c.oracle, name, l);
		c.oracle[l] = 0;
		if (strcmp(c.oracle, "equivalence") && strcmp(c.oracle, "phys-errors") &&
		    strcmp(c.oracle, "queue-full") && strcmp(c.oracle, "spurious")) {
			code = usage_error(SUB, "unknown oracle '%s' (equivalence, phys-errors, "
					   "queue-full, spurious)", c.oracle);
			goto out;
		}
		int cand[VITS_POLICY_COUNT], nc = 0;
		if (colon) {
			int p = vits_policy_from_name(colon + 1);
			if (p < 0) {
				code = usage_error(SUB, "unknown policy '%s'", colon + 1);
				goto out;
			}
			cand[nc++] = p;
		} else {
			for (int p = 0; p < VITS_POLICY_COUNT; p++)
				cand[nc++] = p;
		}
		/* Keep the policies under which the original fails. */
		struct check probe = c;
		probe.quiet = 1;
		for (int i = 0; i < nc; i++) {
			probe.policies[0] = cand[i];
			probe.npol = 1;
			if (check_fn(&probe, t) > 0)
				c.policies[c.npol++] = cand[i];
		}
		if (!c.npol) {
			err_msg(SUB, "%s does not fail oracle %s: nothing to minimize", path, c.oracle);
			goto out;
		}
	} else {
		c.kind = CK_SHELL;
		c.cmd = until;
		snprintf(c.tmp, sizeof(c.tmp), "/tmp/its-trace-min-%ld.itr", (long)getpid());
		if (rp_memtrace_save(t, c.tmp)) {
			err_msg(SUB, "cannot write %s", c.tmp);
			goto out;
		}
		c.status = run_shell(&c, c.tmp);
		if (c.status <= 0) {
			err_msg(SUB, "'%s' exits %d on %s: it must fail (exit non-zero) to minimize",
				until, c.status, path);
			goto out;
		}
	}
	struct rp_memtrace *m;
	struct rp_min_stats st;
	rc = rp_minimize(t, check_fn, &c, &m, &st);
	if (rc) {
		err_msg(SUB, "%s: %s", path, rc == RP_E_INVAL ?
			"the trace as minimize rewrites it no longer fails the check (a budget or a "
			"stall in the trace?)" : rp_strerror(rc));
		goto out;
	}
	if (rp_memtrace_save(m, out)) {
		err_msg(SUB, "cannot write %s", out);
		rp_memtrace_free(m);
		goto out;
	}
	rp_memtrace_free(m);
	printf("minimized %s -> %s (until %s)\n", path, out, until);
	printf("  units     %llu -> %llu (guest commands, property writes, MSIs)\n",
	       (unsigned long long)st.units_before, (unsigned long long)st.units_after);
	printf("  commands  %llu -> %llu\n", (unsigned long long)st.commands_before,
	       (unsigned long long)st.commands_after);
	printf("  records   %llu -> %llu\n", (unsigned long long)st.records_before,
	       (unsigned long long)st.records_after);
	printf("  checks    %llu candidates tried\n", (unsigned long long)st.checks);
	code = EXIT_OK;
out:
	if (c.kind == CK_SHELL && c.tmp[0])
		unlink(c.tmp);
	free(r);
	rp_memtrace_free(t);
	return code;
}
