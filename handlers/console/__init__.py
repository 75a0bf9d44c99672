"""The console channel: the same flows in a terminal, buttons shown as numbered choices."""
