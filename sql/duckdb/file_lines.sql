-- DuckDB only: the lines of a log file ($path) that are not blank, as Python reads them (tasks/sources/file.py).
-- Python's blank line: spaces, then byte-order marks, then spaces (any other line counts, even one it rejects).
-- Placed, as a subquery, where the other file_* statements say __LINES__.
(
  select line
  from read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = chr(0), quote = '', escape = '',
    auto_detect = false, max_line_size = $max_line_chars, buffer_size = $buffer_chars)
  where not regexp_full_match(line, '\s*\x{feff}*\s*')
)
