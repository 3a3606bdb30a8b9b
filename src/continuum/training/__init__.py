"""Live simulation training: a simulated patient streamed into the ordinary pages as a
marked TRAINING run; faults injected live, scored against the simulator's truth, debriefed;
competencies signed off from the debrief."""
