-- summary.sql: one line per run: strategy, outcome, and the two counts that
-- explain it. leaked_write_ends: write ends workers hold when they start
-- reading; eof_blockers: holders that keep a reader from EOF when the pool
-- parent closes its write end.
SELECT run_id, strategy, workers, outcome, leaked_write_ends, eof_blockers
FROM run_summary
ORDER BY run_id;
