"""Pure alert logic: milestone paths, conditions with hysteresis, the lifecycle state machine."""
