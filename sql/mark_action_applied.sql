-- An action is applied once; the issue number it touched, and the priority label it wrote, are recorded.
update issue_actions
set state = 'applied', issue_number = @issue_number, applied_at = @applied_at, label_written = @label_written
where action_key = @action_key
