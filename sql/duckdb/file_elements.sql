-- DuckDB only: the elements of a JSON-array log file ($path), each as the text written in the file and numbered
-- in the order Python's reader yields them, into a table the other file_* statements read in place of the file's
-- lines. DuckDB's array reader runs on one thread, and a query reading it would too: read once into a table, the
-- elements are judged on every core.
-- DuckDB refuses an array Python would read otherwise (a broken element, text after the array, two arrays):
-- the file is then read by Python.
create or replace temp table _gardener_file_elements as
select row_number() over () - 1 as position, json::varchar as line
from read_json_objects($path, format = 'array')
