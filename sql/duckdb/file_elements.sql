-- DuckDB only: the elements of a JSON-array log file ($path), each as the text written in the file, in order.
-- DuckDB refuses an array Python would read otherwise (a broken element, text after the array, two arrays, an
-- element over $max_object_chars): the file is then read by Python. Placed where file_lines.sql would be.
(
  select json::varchar as line
  from read_json_objects($path, format = 'array', maximum_object_size = $max_object_chars)
)
