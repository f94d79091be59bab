"""Deciding what runs next: trigger rules, expansion of mapped tasks, retries, run state."""
