/* test_json.c: the JSON pooltrace writes parses, and says what the text does: query --json/--jsonl, the --json summaries of run, record and snapshot, and export --format perfetto. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG(name) POOLTRACE_PROGRAMS "/" name

/*
 * Runs a python3 script (written to the test's directory) with args; it
 * prints what the test compares, or exits non-zero saying why. Asserts it
 * succeeded.
 */
static void py(struct t_result *r, const char *script, const char *args)
{
	FILE *f = fopen(t_path("check.py"), "w");

	cr_assert(f != NULL);
	fputs(script, f);
	fclose(f);
	cr_assert_eq(t_sh(r, "python3 check.py %s", args), 0, "check.py %s: %s%s", args, r->out, r->err);
}

/* ---- query ---- */

/* Loads a --json file and the same query's CSV: every cell the same, NULL an empty CSV field. */
static const char json_vs_csv[] =
	"import csv, json, sys\n"
	"rows = json.load(open(sys.argv[1]))\n"
	"lines = [json.loads(l) for l in open(sys.argv[3])]\n"
	"assert lines == rows, 'jsonl differs from json'\n"
	"table = list(csv.reader(open(sys.argv[2], newline='')))\n"
	"head, body = table[0], table[1:]\n"
	"assert len(body) == len(rows), (len(body), len(rows))\n"
	"def text(v):\n"
	"    return '' if v is None else str(v)\n"
	"for r, c in zip(rows, body):\n"
	"    assert list(r.keys()) == head, (list(r.keys()), head)\n"
	"    assert [text(v) for v in r.values()] == c, (r, c)\n"
	"    for v in r.values():\n"
	"        assert v is None or isinstance(v, (int, str)), v\n"
	"print(len(rows))\n";

Test(json, query_json_has_every_row_and_value_of_the_same_querys_csv, .timeout = 60)
{
	static const char *const queries[] = {
		"SELECT * FROM processes WHERE run_id = 1 ORDER BY pid",
		"SELECT * FROM fd_holds WHERE run_id = 1 ORDER BY pid, fd, from_seq",
		"SELECT * FROM events WHERE run_id = 1 ORDER BY seq",
		"SELECT * FROM runs",
		NULL,
	};
	const char *db = t_path("t.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -w 4 -t 8"), 0, "%s", r.err);
	for (const char *const *q = queries; *q; q++) {
		cr_assert_eq(t_run(&r, "query --db t.db --json \"%s\" > q.json && \"$PT\" query --db t.db --csv \"%s\" > q.csv"
				       " && \"$PT\" query --db t.db --jsonl \"%s\" > q.jsonl", *q, *q, *q),
			     0, "%s: %s", *q, r.err);
		py(&r, json_vs_csv, "q.json q.csv q.jsonl");
		cr_expect_gt(atoi(r.out), 0, "%s: no rows", *q);
	}
	cr_expect_eq(atoi(r.out), 1);
	/* The events, counted the same way: one object per row of the view. */
	cr_assert_eq(t_run(&r, "query --db t.db --jsonl 'SELECT * FROM events WHERE run_id = 1' | wc -l"), 0, "%s", r.err);
	cr_expect_eq(atoll(r.out), t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1"));
}

Test(json, query_json_keeps_null_big_integers_reals_quotes_newlines_control_bytes_bad_utf8_and_blobs, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -w 2"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "query --db t.db --json \"SELECT NULL AS n, 9007199254740993 AS big,"
			       " -9223372036854775808 AS min, 9223372036854775807 AS max, 0.1 AS tenth, 3.0 AS three,"
			       " 'say \\\"hi\\\" \\\\ back' AS quotes, 'one' || char(10) || 'two' AS lines,"
			       " char(0, 1, 9, 27, 127) AS controls, CAST(x'ff41c328e282' AS TEXT) AS bad,"
			       " 'é → 😀' AS good, x'00ff10' AS blob\" > v.json"),
		     0, "%s", r.err);
	py(&r,
	   "import json\n"
	   "raw = open('v.json', 'rb').read()\n"
	   "raw.decode('utf-8')  # strict: every byte written is UTF-8\n"
	   "[d] = json.loads(raw)\n"
	   "assert d['n'] is None\n"
	   "assert d['big'] == 9007199254740993 and type(d['big']) is int\n"
	   "assert d['min'] == -9223372036854775808 and d['max'] == 9223372036854775807\n"
	   "assert d['tenth'] == 0.1 and type(d['three']) is float and d['three'] == 3.0\n"
	   "assert d['quotes'] == 'say \"hi\" \\\\ back', d['quotes']\n"
	   "assert d['lines'] == 'one\\ntwo'\n"
	   "assert d['controls'] == '\\x00\\x01\\t\\x1b\\x7f', repr(d['controls'])\n"
	   "assert d['bad'] == '\\ufffdA\\ufffd(\\ufffd\\ufffd', repr(d['bad'])\n"
	   "assert d['good'] == '\\u00e9 \\u2192 \\U0001f600', repr(d['good'])\n"
	   "assert d['blob'] == '00ff10'\n"
	   "print('ok')\n",
	   "");
	cr_expect_str_eq(r.out, "ok\n");
	/* An empty result is an empty array; several statements, one array each. */
	cr_assert_eq(t_run(&r, "query --db t.db --json 'SELECT 1 WHERE 0'"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "[]\n");
	cr_assert_eq(t_run(&r, "query --db t.db --json 'SELECT 1 AS a; SELECT 2 AS b'"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "[\n{\"a\": 1}\n]\n[\n{\"b\": 2}\n]\n");
	cr_assert_eq(t_run(&r, "query --db t.db --jsonl 'SELECT 1 AS a UNION ALL SELECT 2; SELECT 3 AS b'"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "{\"a\": 1}\n{\"a\": 2}\n{\"b\": 3}\n");
}

Test(json, a_program_named_with_bytes_that_are_not_utf8_gives_valid_json, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "cp %s \"$(printf 'po\\001ol\\377')\"", PROG("leakypool")), 0, "%s", r.err);
	t_run(&r, "record --db t.db --json -- \"./$(printf 'po\\001ol\\377')\" 2 fixed 2> rec.json");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "query --db t.db --json 'SELECT program, command FROM processes JOIN runs ON id = run_id"
			       " WHERE program IS NOT NULL' > p.json"),
		     0, "%s", r.err);
	py(&r,
	   "import json\n"
	   "rows = json.load(open('p.json', encoding='utf-8'))\n"
	   "assert rows and all(r['program'].endswith('/po\\x01ol\\ufffd') for r in rows), rows\n"
	   "[rec] = [json.loads(l) for l in open('rec.json', encoding='utf-8')]\n"
	   "assert rec['argv'][0] == './po\\x01ol\\ufffd', rec['argv']\n"
	   "assert rec['outcome'] == 'ok' and rec['leaked_write_ends'] == 0 and rec['explain'] is None, rec\n"
	   "print('ok')\n",
	   "");
	cr_expect_str_eq(r.out, "ok\n");
}

Test(json, query_output_errors_are_one_line)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -w 2"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "query --db t.db --json 'SELECT * FROM events' > /dev/full"), 1);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_run(&r, "query --db t.db --jsonl 'SELECT * FROM events' > /dev/full"), 1);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_run(&r, "query --db t.db --json --csv 'SELECT 1'"), 2);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "give one output format") != NULL, "%s", r.err);
}

/* ---- summaries ---- */

Test(json, run_json_is_the_summary_lines_facts_and_the_words_are_unchanged_without_it, .timeout = 60)
{
	const char *db = t_path("t.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -w 3 --json > run.json"), 0, "%s", r.err);
	py(&r,
	   "import json\n"
	   "[d] = [json.loads(l) for l in open('run.json')]\n"
	   "import sqlite3\n"
	   "assert d['events'] == sqlite3.connect('t.db').execute('SELECT events FROM runs WHERE id = 1').fetchone()[0], d\n"
	   "print(d['run'], d['leaked_write_ends'], d['eof_blockers'], d['outcome'], d['strategy'], d['workers'],"
	   " d['traced'], d['explain'])\n",
	   "");
	cr_expect_str_eq(r.out, "1 3 2 deadlock naive 3 True pooltrace explain --run 1 --db t.db\n");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = 1"), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = 1"), 2);
	cr_assert_eq(t_run(&r, "run --db t.db -w 3 -s child-close"), 0, "%s", r.err);
	cr_expect(!strncmp(r.out, "run 2: child-close, 3 workers, 16 tasks: ok; leaked write ends 0, EOF blockers 0; ", 82),
		  "%s", r.out);
	cr_expect(strchr(r.out, '{') == NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "run --no-trace -w 2 -s child-close --json"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "\"run\": null, \"source\": \"pool\", \"traced\": false") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"explain\": null") != NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "run --db t.db -w 2 --json --fail-on leak > gate.json"), 3, "%s", r.err);
	py(&r, "import json\nd = json.load(open('gate.json'))\nprint(d['fails_gate'], d['gate'])\n", "");
	cr_expect_str_eq(r.out, "True 1 leaked write end\n");
}

Test(json, snapshot_json_replaces_the_words, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "sleep 30 | sleep 30 & echo $! > pid; sleep 0.3;"
			      " \"$PT\" snapshot --db t.db --json $(cat pid) > snap.json 2> snap.err; rc=$?;"
			      " kill $(cat pid); exit $rc"),
		     0, "%s", r.err);
	py(&r,
	   "import json\n"
	   "[d] = [json.loads(l) for l in open('snap.json')]\n"
	   "assert open('snap.err').read() == ''\n"
	   "print(d['source'], d['deadlock'], d['processes'], d['pipes'] >= 1, d['run'], d['explain'])\n",
	   "");
	cr_expect_str_eq(r.out, "snapshot False 1 True 1 None\n");
}

/* ---- export --format perfetto ---- */

/*
 * Checks a Trace Event Format file against the format and against the
 * database: prints its counts as "instants holds leaked processes forks".
 */
static const char perfetto_check[] =
	"import json, sqlite3, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"db = sqlite3.connect(sys.argv[2]); run = int(sys.argv[3])\n"
	"ev = d['traceEvents']\n"
	"assert d['otherData']['run'] == run\n"
	"for e in ev:\n"
	"    for k in ('ph', 'ts', 'pid', 'tid', 'name'):\n"
	"        assert k in e, (k, e)\n"
	"    assert type(e['pid']) is int and type(e['tid']) is int and isinstance(e['ts'], (int, float)), e\n"
	"    assert e['ph'] in 'MIXsf', e\n"
	"    if e['ph'] == 'X':\n"
	"        assert e['dur'] >= 0 and e['ts'] >= 0, e\n"
	"    if e['ph'] == 'I':\n"
	"        assert e['s'] == 't' and 'args' in e, e\n"
	"    if e['ph'] == 'M':\n"
	"        assert e['name'] in ('process_name', 'thread_name', 'process_sort_index'), e\n"
	"named_p = {e['pid'] for e in ev if e['ph'] == 'M' and e['name'] == 'process_name'}\n"
	"named_t = {(e['pid'], e['tid']) for e in ev if e['ph'] == 'M' and e['name'] == 'thread_name'}\n"
	"for e in ev:\n"
	"    assert e['pid'] in named_p, ('no process_name', e)\n"
	"    if e['ph'] != 'M':\n"
	"        assert (e['pid'], e['tid']) in named_t, ('no thread_name', e)\n"
	"starts = {e['id']: e for e in ev if e['ph'] == 's'}\n"
	"ends = {e['id']: e for e in ev if e['ph'] == 'f'}\n"
	"assert len(starts) == sum(1 for e in ev if e['ph'] == 's'), 'flow ids repeat'\n"
	"assert starts.keys() == ends.keys(), 'flows without both ends'\n"
	"forks = dict(db.execute('SELECT seq, pid FROM events WHERE run_id = ? AND kind = \"fork\"', (run,)).fetchall())\n"
	"for i, s in starts.items():\n"
	"    f = ends[i]\n"
	"    assert s['cat'] == f['cat'] == 'fork' and s['ts'] == f['ts'] and f['bp'] == 'e', (s, f)\n"
	"    assert forks[i] == f['pid'], (i, f)\n"
	"inst = [e for e in ev if e['ph'] == 'I']\n"
	"assert not [e for e in ev if e['ph'] == 'i'], 'instants are I, which DevTools reads'\n"
	"want = db.execute('SELECT seq, pid, kind FROM events WHERE run_id = ? ORDER BY seq', (run,)).fetchall()\n"
	"got = sorted((e['args']['seq'], e['pid'], e['name']) for e in inst)\n"
	"assert got == want, 'instants are not the events'\n"
	/* Each instant at its event's own time, from the run's base (a pool's fork event
	 * takes its seq before the fork and its time in the child: seq order is not time order). */
	"base = min(db.execute('SELECT started_ns FROM runs WHERE id = ?', (run,)).fetchone()[0],"
	" db.execute('SELECT min(ts_ns) FROM events WHERE run_id = ?', (run,)).fetchone()[0])\n"
	"at = dict(db.execute('SELECT seq, ts_ns FROM events WHERE run_id = ?', (run,)).fetchall())\n"
	"for e in inst:\n"
	"    assert abs(e['ts'] - (at[e['args']['seq']] - base) / 1000) < 0.0015, ('instant not at its time', e)\n"
	"holds = [e for e in ev if e['ph'] == 'X' and e['cat'] == 'hold']\n"
	"want = sorted(db.execute('SELECT pid, fd, pipe_id, from_seq, to_seq FROM fd_holds WHERE run_id = ?', (run,)).fetchall(),"
	" key=repr)\n"
	"got = sorted(((a['pid'], a['fd'], a['pipe_id'], a['from_seq'], a['to_seq']) for a in (e['args'] for e in holds)), key=repr)\n"
	"assert got == want, 'hold slices are not fd_holds'\n"
	"for e in holds:\n"
	"    assert e['pid'] >= 1000000000 and e['tid'] >= 1500000000, e\n"
	"leaked = sum(1 for e in holds if e['args']['leaked'])\n"
	"assert leaked == db.execute('SELECT count(*) FROM leaked_write_ends WHERE run_id = ?', (run,)).fetchone()[0]\n"
	"procs = [e for e in ev if e['ph'] == 'X' and e['cat'] == 'process']\n"
	"print(len(inst), len(holds), leaked, len(procs), len(starts))\n";

Test(perfetto, every_event_has_what_the_format_requires_flows_pair_instants_are_the_events_and_holds_fd_holds, .timeout = 60)
{
	const char *db = t_path("t.db");
	struct t_result r;
	char want[128];

	cr_assert_eq(t_run(&r, "run --db t.db -q -w 4 && \"$PT\" run --db t.db -q -s close-all -w 3"), 0, "%s", r.err);
	for (int run = 1; run <= 2; run++) {
		cr_assert_eq(t_run(&r, "export --format perfetto --db t.db --run %d -o p%d.json", run, run), 0, "%s", r.err);
		cr_expect_str_eq(r.out, "");
		cr_expect_str_eq(r.err, "");
		py(&r, perfetto_check, run == 1 ? "p1.json t.db 1" : "p2.json t.db 2");
		snprintf(want, sizeof(want), "%lld %lld %lld %lld %lld\n",
			 (long long)t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d", run),
			 (long long)t_sql_int(db, "SELECT count(*) FROM fd_holds WHERE run_id = %d", run),
			 (long long)t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = %d", run),
			 /* every process of the run, and pooltrace */
			 (long long)t_sql_int(db, "SELECT count(*) + 1 FROM processes WHERE run_id = %d", run),
			 (long long)t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d AND kind = 'fork'", run));
		cr_expect_str_eq(r.out, want, "run %d", run);
	}
	/* The deadlock: a blocked slice per hang event, each on a process track, ended by its kill. */
	py(&r,
	   "import json\n"
	   "ev = json.load(open('p1.json'))['traceEvents']\n"
	   "b = [e for e in ev if e['ph'] == 'X' and e['cat'] == 'blocked']\n"
	   "assert all(e['args']['until'] == 'its kill' and e['args']['evidence']['detail'].startswith('state=') for e in b), b\n"
	   "print(len(b))\n",
	   "");
	snprintf(want, sizeof(want), "%lld\n", (long long)t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1 AND kind = 'hang'"));
	cr_expect_str_eq(r.out, want);
	cr_expect_neq(strcmp(r.out, "0\n"), 0);
}

Test(perfetto, a_recorded_program_exports_with_its_program_names, .timeout = 60)
{
	const char *db = t_path("t.db");
	struct t_result r;
	char want[128];

	cr_assert_eq(t_sh(&r, "cp %s \"$(printf 'po\\001ol\\377')\"", PROG("leakypool")), 0, "%s", r.err);
	t_run(&r, "record --db t.db -q -- \"./$(printf 'po\\001ol\\377')\" 3");
	cr_assert_eq(r.status, 137, "%s", r.err);
	cr_assert_eq(t_run(&r, "export --db t.db -o - > p.json"), 0, "%s", r.err);
	py(&r, perfetto_check, "p.json t.db 1");
	snprintf(want, sizeof(want), "%lld %lld %lld ",
		 (long long)t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1"),
		 (long long)t_sql_int(db, "SELECT count(*) FROM fd_holds WHERE run_id = 1"),
		 (long long)t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = 1"));
	cr_expect(!strncmp(r.out, want, strlen(want)), "%s, want %s", r.out, want);
	py(&r,
	   "import json\n"
	   "ev = json.load(open('p.json', encoding='utf-8'))['traceEvents']\n"
	   "names = [e['args']['name'] for e in ev if e['ph'] == 'M' and e['name'] == 'process_name' and e['pid'] < 1000000000]\n"
	   "print(ascii(sorted(set(names))), len(names))\n",
	   "");
	/* The program and its 3 workers, which run it without an exec of their own, and pooltrace. */
	cr_expect_str_eq(r.out, "['po\\x01ol\\ufffd', 'pooltrace'] 5\n");
}

/* A write end held to the end (a hand-edited trace: no end recorded) gets a slice to the run's last moment. */
Test(perfetto, a_hold_that_never_ended_reaches_the_end_of_the_run, .timeout = 60)
{
	const char *db = t_path("t.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -w 3"), 0, "%s", r.err);
	t_sql_exec(db, "UPDATE holds SET to_seq = NULL WHERE run_id = 1 AND (pid, fd, pipe_id) IN"
		       " (SELECT pid, fd, pipe_id FROM leaked_write_ends WHERE run_id = 1 ORDER BY pid LIMIT 1)");
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM fd_holds WHERE run_id = 1 AND to_seq IS NULL"), 1);
	cr_assert_eq(t_run(&r, "export --db t.db -o p.json"), 0, "%s", r.err);
	py(&r,
	   "import json\n"
	   "ev = json.load(open('p.json'))['traceEvents']\n"
	   "end = max(e['ts'] + e.get('dur', 0) for e in ev if e['ph'] != 'M')\n"
	   "[h] = [e for e in ev if e['ph'] == 'X' and e['cat'] == 'hold' and e['args']['to_seq'] is None]\n"
	   "assert h['args']['until_end'] and h['args']['leaked'] and h['name'] == 'write end (leaked)', h\n"
	   "assert abs(h['ts'] + h['dur'] - end) < 0.002, (h, end)\n"
	   "others = [e for e in ev if e['ph'] == 'X' and e['cat'] == 'hold' and e['args']['to_seq'] is not None]\n"
	   "assert all(e['ts'] + e['dur'] < end for e in others)\n"
	   "print('ok')\n",
	   "");
	cr_expect_str_eq(r.out, "ok\n");
}

Test(perfetto, output_errors_are_one_line_with_the_exit_status_of_their_kind)
{
	const char *db = t_path("t.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -w 2"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "export --db t.db -o - > /dev/full"), 1);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "No space left on device") != NULL, "%s", r.err);
	cr_expect_eq(t_run(&r, "export --db t.db -o /dev/full"), 1);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_run(&r, "export --db t.db --format svg -o x.json"), 2);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_run(&r, "export --db t.db -o t.db"), 2);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_run(&r, "export --db t.db -o no/such/dir/x.json"), 2);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_run(&r, "export --db t.db --run 7 -o x.json"), 2);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_neq(access(t_path("x.json"), F_OK), 0, "a failed export left a file");
	/* A file is replaced only by a whole export, and the default name says the run. */
	cr_assert_eq(t_sh(&r, "echo old > keep.json"), 0);
	cr_expect_eq(t_run(&r, "export --db t.db --run 7 -o keep.json"), 2);
	cr_assert_eq(t_sh(&r, "cat keep.json"), 0);
	cr_expect_str_eq(r.out, "old\n");
	cr_assert_eq(t_run(&r, "export --db t.db && python3 -m json.tool run1-perfetto.json > /dev/null && ls"), 0, "%s", r.err);
	cr_expect(strstr(r.out, ".tmp-") == NULL, "%s", r.out);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs"), 1);
}
