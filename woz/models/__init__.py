"""Pydantic types at woz's edges: tasks, records, protocol frames, the study file."""
