"""The training recipe both embedded models share: noise schedule, loss weighting, learning rate, EMA, grounding
loss, and what a run writes (log lines, checkpoints)."""
