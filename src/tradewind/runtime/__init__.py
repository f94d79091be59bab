"""Runs one task instance: inputs in, result out. Knows nothing of the store or the scheduler."""
