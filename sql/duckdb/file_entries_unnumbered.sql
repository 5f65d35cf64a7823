-- DuckDB only: the text of every line left to Python (file_entries.sql), in an order that depends on the lines
-- alone (their hash, length and text), never on how the threads read them: judged before they are numbered
-- (tasks/file_extract.py), they keep that order when no line needs its number.
select python_text
from _gardener_file_entries
where verdict = 'python'
order by line_hash, line_chars, python_text
