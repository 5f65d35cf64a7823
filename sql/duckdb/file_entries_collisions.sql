-- DuckDB only: whether two lines that differ share a hash and a length in the table of verdicts (file_entries.sql),
-- as far as it shows: equal lines always share their verdict, their log name and, left to Python, their text. The numbering pass
-- (file_entries_positions.sql) finds lines again by (hash, length), and DuckDB's string hash is fast, not
-- collision-proof, while log text can be chosen by whoever writes it: a collision leaves the whole file to Python.
-- Run only before that pass, the one reader of the hashes; with $python_only, when that pass looks for the lines
-- left to Python alone, only the hashes of those lines are looked at.
select exists (
  select 1
  from _gardener_file_entries
  where not $python_only or line_hash in (select line_hash from _gardener_file_entries where verdict = 'python')
  group by line_hash, line_chars
  having count(distinct verdict) > 1 or count(distinct case when verdict = 'kept' then log_name end) > 1
    or count(distinct python_text) > 1
) as hashes_collide
