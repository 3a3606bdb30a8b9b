"""Live simulation training: a simulated patient streamed into the ordinary pages as a marked TRAINING run; faults injected live, scored against the simulator truth, debriefed."""
