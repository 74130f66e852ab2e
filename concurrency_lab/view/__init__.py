"""Shared drawing and controls: the course palette and figure helpers, the explorer base,
timelines and the notebook magics. Importing a module here imports matplotlib or ipywidgets;
the rest of the package never imports this layer at load time.
"""
