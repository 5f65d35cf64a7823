-- DuckDB only: where, counted as Python counts lines, are the lines left to Python, and with $with_project the
-- first kept line that names a project (tasks/extract.py takes the project from the first kept entry, whichever
-- path kept it).
-- file_entries.sql knows a line by its hash and length; this light pass numbers the lines and finds them again.
-- Equal lines share their verdict, so a line found twice is two lines with one verdict. With $with_texts the
-- texts of the lines left to Python come too, from the table of verdicts (the elements of a JSON array, which
-- Python cannot seek to; the lines of NDJSON, which Python need not read again).
with wanted as (
  select
    line_hash,
    line_chars,
    bool_or(verdict = 'python') as to_python,
    bool_or(verdict = 'kept') as kept,
    any_value(split_part(log_name, '/', 2)) filter (where verdict = 'kept') as project,
    any_value(python_text) as text
  from _gardener_file_entries
  where verdict = 'python' or ($with_project and verdict = 'kept' and log_name like 'projects/%' and split_part(log_name, '/', 2) <> '')
  group by line_hash, line_chars
), numbered as (
  select position, hash(line) as line_hash, strlen(line) as line_chars
  from __NUMBERED_LINES__
)
select
  coalesce(list(n.position order by n.position) filter (where w.to_python), []) as python_positions,
  coalesce(list(w.text order by n.position) filter (where w.to_python and $with_texts), []) as python_texts,
  min(n.position) filter (where w.kept) as project_position,
  arg_min(w.project, n.position) filter (where w.kept) as project
from numbered as n
join wanted as w on w.line_hash = n.line_hash and w.line_chars = n.line_chars
