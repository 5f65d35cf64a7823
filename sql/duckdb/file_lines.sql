-- DuckDB only: every line of a log file ($path), as Python reads them (tasks/sources/file.py); an empty line is
-- null, and a line Python reads as blank is known by the macro gardener_blank (tasks/file_extract.py).
-- Placed, as a subquery, where the other file_* statements say __LINES__.
(
  select line
  from read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = chr(0), quote = '', escape = '',
    auto_detect = false, max_line_size = $max_line_chars, buffer_size = $buffer_chars)
)
