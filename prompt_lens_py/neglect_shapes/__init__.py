"""neglect-shapes: tiny-shapes' architecture trained on a world whose statistics make it neglect objects as SD does."""
