"""The lab's plumbing, shared by every lesson: standard library only.

Workloads, runners (threads and processes under every start method), the child-process
harness, argument validation, machine facts, progress, tracing, errors, result objects and
the watcher. Nothing here imports matplotlib or ipywidgets.
"""
