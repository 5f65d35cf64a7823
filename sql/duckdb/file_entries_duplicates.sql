-- DuckDB only: an insertId on more than one line of the file is left to Python on all of them, so which line
-- is kept is decided in one place (the earliest timestamp among the rows loaded together).
update _gardener_file_entries
set verdict = 'python', message = null, python_text = payload, payload = null
where verdict = 'kept'
  and insert_id in (
    select insert_id
    from _gardener_file_entries
    where verdict in ('kept', 'python') and insert_id is not null
    group by insert_id
    having count(*) > 1
  )
