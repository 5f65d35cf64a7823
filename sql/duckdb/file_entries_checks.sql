-- DuckDB only: whether SQL's reading of the file stands, in one pass over the verdicts (file_entries.sql):
--   lines: the lines per verdict ('blank' counts the lines Python reads as blank, not entries);
--   keys_twice: a line holds a key twice in an object its verdict is read from, so its insertId could be another
--     one for Python, yet SQL alone decides which lines share an insertId (file_entries_duplicates.sql);
--   longest_chars: the longest line (an array's element), which DuckDB's array reader does not limit;
--   projects: the projects the kept lines name (up to two: with one, and no line left to Python, the project is
--     known without numbering the lines);
--   python_chars: the length of the lines left to Python, in all (short enough, their texts come back from SQL).
-- Such a key, or an element longer than Python's array reader takes, leaves the whole file to Python.
select
  (select map(list(verdict), list(lines)) from (
    select verdict, count(*) as lines from _gardener_file_entries group by verdict
  )) as lines,
  (select coalesce(bool_or(not keys_unique), false) from _gardener_file_entries) as keys_twice,
  (select max(line_chars) from _gardener_file_entries) as longest_chars,
  (
    select coalesce(list(project), [])
    from (
      select distinct split_part(log_name, '/', 2) as project
      from _gardener_file_entries
      where verdict = 'kept' and log_name like 'projects/%' and split_part(log_name, '/', 2) <> ''
      limit 2
    )
  ) as projects,
  (select sum(line_chars) from _gardener_file_entries where verdict = 'python') as python_chars
