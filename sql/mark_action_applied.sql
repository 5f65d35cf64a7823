-- An action is applied once; the issue number it touched is recorded.
update issue_actions
set state = 'applied', issue_number = @issue_number, applied_at = @applied_at
where action_key = @action_key
