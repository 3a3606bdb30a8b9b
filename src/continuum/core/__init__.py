"""The core record: patients, staff, runs, circuits, observations, timeline, audit."""
