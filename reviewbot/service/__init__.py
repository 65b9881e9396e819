"""Service: the cycle that runs the steps, the worker that schedules it, leadership, the demo."""
